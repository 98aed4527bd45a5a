"""The reviewed files in data/raw/ that fact extraction reads: mistakes are named, not ignored.

Each test edits a copy of data/raw/ in tmp_path (data/raw/ is never edited).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.facts.glossary import load_glossary
from analysis.facts.mentions import load_lexicon
from analysis.paths import RAW


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
