"""The reviewed files in data/raw/ that fact extraction reads: mistakes are named, not ignored.

Each test edits a copy of data/raw/ in tmp_path (data/raw/ is never edited).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.facts.checks import load_checks
from analysis.facts.glossary import load_glossary
from analysis.facts.mentions import load_lexicon
from analysis.facts.tables import ALL_TABLES
from analysis.paths import PROCESSED, RAW, ROOT


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(RAW, folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_loads(raw):
    assert load_lexicon(raw / "mention_rules.toml").review_rules
    assert load_glossary(raw / "glossary.csv").en


@pytest.mark.parametrize(
    ("old", "new", "key", "where", "valid"),
    [
        (
            "[[not_a_fact]]\n",
            '[[not_a_fact]]\ncontxt = "x"\n',
            "contxt",
            "[[not_a_fact]]",
            "context",
        ),
        ("[[compound]]\n", '[[compound]]\npatern = "x"\n', "patern", "[[compound]]", "pattern"),
        (
            "[lexicon.lists]\n",
            "[lexicon.lists]\nseparator = []\n",
            "separator",
            "[lexicon.lists]",
            "separators",
        ),
        (
            "[lexicon]\n",
            "[lexicon]\nchinese_digit = {}\n",
            "chinese_digit",
            "[lexicon]",
            "chinese_digits",
        ),
        ("[lexicon]\n", "reviewd = true\n[lexicon]\n", "reviewd", "the top level", "not_a_fact"),
    ],
)
def test_mention_rules_reject_an_unknown_key(raw, old, new, key, where, valid):
    """The old loader ignored these keys without a word."""
    path = raw / "mention_rules.toml"
    _edit(path, old, new)
    with pytest.raises(InputError) as info:
        load_lexicon(path)
    message = str(info.value)
    assert "mention_rules.toml" in message and repr(key) in message, message
    assert where in message and valid in message, message


def test_a_glossary_with_a_bom_is_reported_as_a_bom(raw):
    """The old loader said the header was wrong (the first column read as '\\ufeffzh')."""
    path = raw / "glossary.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(InputError) as info:
        load_glossary(path)
    message = str(info.value)
    assert "glossary.csv" in message and "byte-order mark" in message
    assert "without BOM" in message and "header" not in message


# --------------------------------------------------------------- data/raw/consistency_checks.toml

FIRST_CHECK = 'name = "winners_by_round"\n'
ROUNDS_SIDE = '{ table = "cluster_competition_rounds", rows = true }'


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        # an unknown key, at each level
        (FIRST_CHECK, FIRST_CHECK + 'descripton = "x"\n', ["'descripton'", "valid:"]),
        ("[[check]]\n", "reviewed = true\n[[check]]\n", ["the top level", "'reviewed'"]),
        (ROUNDS_SIDE, ROUNDS_SIDE.replace("rows", "row"), ["computed[0]", "'row'"]),
        ('having = "firms_zh"', 'having = "firms_zh", by = "x"', ["each", "'by'"]),
        # a wrong type
        (FIRST_CHECK, "name = 3\n", ["'name' must be a non-empty string", "3"]),
        (ROUNDS_SIDE, ROUNDS_SIDE.replace("true", "1"), ["'rows' must be true"]),
        (ROUNDS_SIDE, '"cluster_competition_rounds"', ["a side must be a table"]),
        ('where = { level = "regional" }', 'where = "regional"', ["'where' must be a table"]),
        # a missing key, a missing or doubled aggregate, split without items
        (
            'description = "the winners by industry',
            'note = "the winners by industry',
            ["check 'winners_by_industry'", "'description' is missing"],
        ),
        (ROUNDS_SIDE, "{ rows = true }", ["'table' is missing"]),
        (ROUNDS_SIDE, '{ table = "cluster_competition_rounds" }', ["exactly one of", "none"]),
        (
            ROUNDS_SIDE,
            ROUNDS_SIDE.replace("rows = true", 'rows = true, sum = "winners"'),
            ["exactly one of", "'sum'"],
        ),
        (', split = ";" }]\n\n# ---', " }]\n\n# ---", ["'items' needs a 'split'"]),
        # an unknown table or column, a template naming no column, a name used twice
        (
            'table = "amoled_requirements"',
            'table = "amoled_requirement"',
            ["unknown table 'amoled_requirement'"],
        ),
        ('sum = "clusters"', 'sum = "cluster"', ["has no column(s) ['cluster']"]),
        ("firms_named_{equipment_en}", "firms_named_{equipment}", ["refers to ['equipment']"]),
        ('name = "winners_by_industry"', 'name = "winners_by_round"', ["the name is used twice"]),
    ],
)
def test_consistency_checks_reject_a_malformed_entry(raw, old, new, words):
    path = raw / "consistency_checks.toml"
    _edit(path, old, new)
    with pytest.raises(InputError) as info:
        load_checks(path)
    message = str(info.value)
    assert "consistency_checks.toml" in message, message
    for word in words:
        assert word in message, message


def test_consistency_checks_give_the_checks_of_the_table_in_its_order(raw):
    names = [c.name for c in load_checks(raw / "consistency_checks.toml")]
    with (PROCESSED / "consistency_checks.csv").open(encoding="utf-8", newline="") as fh:
        published = [row["check"] for row in csv.DictReader(fh)]
    per_row = [n for n in published if n.startswith("firms_named_")]
    assert names == [n for n in published if n not in per_row] + ["firms_named_{equipment_en}"]
    assert per_row == published[-len(per_row) :]


def test_a_missing_consistency_checks_file_is_named(raw):
    (raw / "consistency_checks.toml").unlink()
    with pytest.raises(InputError, match=r"consistency_checks.toml is missing"):
        load_checks(raw / "consistency_checks.toml")


def test_checks_py_types_no_fact_of_the_document():
    """No table, column value or Chinese text in the engine's code: that is the data file's."""
    import ast

    tree = ast.parse(
        (ROOT / "src" / "analysis" / "facts" / "checks.py").read_text(encoding="utf-8")
    )
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]
    tables = {t.name for t in ALL_TABLES}
    assert not [s for s in literals if re.search(r"[\u4e00-\u9fff]", s)]
    assert not [s for s in literals if s in tables]
