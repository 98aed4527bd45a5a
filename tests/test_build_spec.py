"""reports.toml, parameters cells and selections: every error is caught before a kernel starts."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest

from analysis import cli
from analysis.publish.execute import parameters_source, python_literal
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import SpecError, UnknownSelectionError, load_spec, select

FIXTURE = Path(__file__).parent / "fixtures" / "build"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the fixture project (reports.toml, notebooks, data) to edit freely."""
    shutil.copytree(FIXTURE, tmp_path / "project")
    return tmp_path / "project"


def write_spec(project: Path, text: str) -> Path:
    path = project / "reports.toml"
    path.write_text(text, encoding="utf-8")
    return path


def notebook(path: Path, parameters: str) -> Path:
    """A minimal notebook whose parameters cell is `parameters`."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "p",
            "metadata": {"tags": ["parameters"]},
            "outputs": [],
            "source": parameters,
        }
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def ids(spec, only=(), params=None) -> list[str]:
    return [job.job_id for job in make_jobs(select(spec, only, params))]


def test_fixture_expands_to_stable_ascii_ids(project: Path) -> None:
    spec = load_spec(project / "reports.toml")
    assert ids(spec) == ["chart.zh", "chart.en", "fragile.1", "fragile.0"]
    chart = spec.reports["chart"]
    # The fixed value is passed to every job but is not part of the id.
    assert [job.params for job in make_jobs(select(spec, ["chart"]))] == [
        {"region": "华东", "lang": "zh"},
        {"region": "华东", "lang": "en"},
    ]
    assert chart.formats == ("html", "pdf")
    assert spec.reports["fragile"].formats == ("html",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[reports.chart]\nnotebook = "notebooks/chart.ipynb"\nfromats = ["html"]\n',
            ["reports.toml [reports.chart]", "'fromats'", "did you mean 'formats'"],
        ),
        ('[report.chart]\nnotebook = "notebooks/chart.ipynb"\n', ["'report'", "'reports'"]),
        (
            '[reports.chart]\nnotebook = "notebooks/chart.ipynb"\nformats = ["epub"]\n',
            ["[reports.chart]", "'epub'", "html, pdf, docx"],
        ),
        (
            '[reports.chart]\nnotebook = "notebooks/chart.ipynb"\nparams = { langg = ["zh"] }\n',
            ["[reports.chart] params.langg", "no parameter 'langg'", "lang, region"],
        ),
        (
            '[reports.chart]\nnotebook = "notebooks/chart.ipynb"\n'
            'params = { lang = ["zh", "fr"] }\n',
            ["params.lang", "'fr'", "'zh', 'en'"],
        ),
        (
            '[reports.fragile]\nnotebook = "notebooks/fragile.ipynb"\n'
            'params = { divisor = ["a"] }\n',
            ["params.divisor", "'a' for 'divisor' is a str", "default 1 is a int"],
        ),
        (
            '[reports.chart]\nnotebook = "notebooks/chart.ipynb"\n'
            'params = { lang = "@everything" }\n',
            ["unknown value set '@everything'", "@mainland"],
        ),
        ('[reports.chart]\nnotebook = "notebooks/missing.ipynb"\n', ["missing.ipynb", "does not"]),
        (
            '[reports.Chart]\nnotebook = "notebooks/chart.ipynb"\n',
            ["[reports.Chart]", "lower-case"],
        ),
        ("[site]\ntitle = 'x'\n", ["no [reports.NAME] table"]),
        ("[reports.chart\n", ["not valid TOML"]),
    ],
)
def test_invalid_spec_names_file_and_entry(project: Path, text: str, expected: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(project, text))
    message = str(info.value)
    for part in expected:
        assert part in message


def test_notebook_without_parameters_cell_is_rejected(project: Path) -> None:
    path = project / "notebooks" / "plain.ipynb"
    notebook(path, "x = 1")
    nb = json.loads(path.read_text())
    nb["cells"][0]["metadata"] = {}
    path.write_text(json.dumps(nb))
    spec = write_spec(project, '[reports.plain]\nnotebook = "notebooks/plain.ipynb"\n')
    with pytest.raises(SpecError, match=r"\[reports.plain\]: plain.ipynb has no code cell tagged"):
        load_spec(spec)


def test_selection_filters_the_grid(project: Path) -> None:
    spec = load_spec(project / "reports.toml")
    assert ids(spec, params={"lang": "en"}) == ["chart.en"]  # fragile has no lang: left out
    assert ids(spec, ["fragile"], {"divisor": "0"}) == ["fragile.0"]
    assert ids(spec, ["chart", "fragile"]) == ["chart.zh", "chart.en", "fragile.1", "fragile.0"]


@pytest.mark.parametrize(
    ("only", "params", "expected"),
    [
        (["charts"], {}, ["--only charts", "did you mean 'chart'", "reports: chart, fragile"]),
        (["chart"], {"lang": "fr"}, ["lang=fr", "valid values: zh, en"]),
        (["chart"], {"lang": "zh", "colour": "red"}, ["--param colour", "lang, region"]),
        (["fragile"], {"divisor": "two"}, ["divisor=two", "expected a int"]),
        (["fragile"], {"divisor": "3"}, ["divisor=3", "valid values: 1, 0"]),
    ],
)
def test_unknown_selection_lists_valid_values(
    project: Path, only: list[str], params: dict[str, str], expected: list[str]
) -> None:
    spec = load_spec(project / "reports.toml")
    with pytest.raises(UnknownSelectionError) as info:
        select(spec, only, params)
    for part in expected:
        assert part in str(info.value)


def test_parameter_outside_the_grid_gets_its_own_ascii_id(project: Path) -> None:
    spec = load_spec(project / "reports.toml")
    jobs = make_jobs(select(spec, ["chart"], {"region": "华南", "lang": "zh"}))
    assert len(jobs) == 1
    job = jobs[0]
    assert job.params == {"region": "华南", "lang": "zh"}
    assert job.job_id.startswith("chart.region-u") and job.job_id.endswith(".zh")
    assert job.job_id.isascii()
    # The variant never overwrites the declared report's files.
    assert job.outputs()["html"] != "html/chart.zh.html"


def test_mainland_set_expands_to_31_provinces_with_english_slugs(project: Path) -> None:
    notebook(project / "notebooks" / "profile.ipynb", 'lang = "zh"\nprovince = "江苏"\n')
    spec = load_spec(
        write_spec(
            project,
            '[reports.profile]\nnotebook = "notebooks/profile.ipynb"\n'
            'title = { zh = "{province}省情", en = "Profile of {province}" }\n'
            'params = { lang = ["zh", "en"], province = "@mainland" }\n',
        )
    )
    jobs = make_jobs(select(spec))
    assert len(jobs) == 62
    names = {job.job_id for job in jobs}
    assert {"profile.jiangsu.zh", "profile.shaanxi.en", "profile.shanxi.en"} <= names
    assert all(name.isascii() for name in names)
    # Any alias a person types resolves to the canonical value of the grid.
    for alias in ("Jiangsu", "江苏省", "苏", "320000"):
        (job,) = make_jobs(select(spec, params={"province": alias, "lang": "en"}))
        assert job.job_id == "profile.jiangsu.en"
        assert job.params["province"] == "江苏"
        assert job.title() == "Profile of Jiangsu"
    with pytest.raises(UnknownSelectionError) as info:
        select(spec, params={"province": "Atlantis"})
    assert "Atlantis" in str(info.value) and "北京" in str(info.value)
    with pytest.raises(UnknownSelectionError, match="香港"):
        select(spec, params={"province": "香港"})  # a unit, but not in this report's grid


@pytest.mark.parametrize(
    "value",
    ["江苏", "内蒙古自治区", 'say "hi"', "it's", "a\\b", "line\nbreak", "tab\t", "😀", "", "\x00"],
)
def test_parameters_are_readable_and_valid_python(value: str) -> None:
    source = parameters_source({"province": value, "n": 3, "share": 0.5, "flag": True})
    tree = ast.parse(source)
    assigned = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}
    assert assigned == {"province": value, "n": 3, "share": 0.5, "flag": True}
    if value.isprintable():
        assert "\\u" not in source and "\\U" not in source  # readable, not escaped
    assert python_literal("江苏") == '"江苏"'


def test_cli_rejects_bad_input_before_any_kernel(project: Path, capsys) -> None:
    spec = project / "reports.toml"
    status = cli.main(["build", "--reports-file", str(spec), "--only", "chart", "--lang", "fr"])
    assert status == 2
    err = capsys.readouterr().err
    assert "lang=fr" in err and "valid values: zh, en" in err
    assert not (project / "reports").exists()  # nothing was started or written
    status = cli.main(["build", "--reports-file", str(project / "nope.toml")])
    assert status == 2
    assert "nope.toml does not exist" in capsys.readouterr().err


def test_warm_up_list_names_the_submodules_a_notebook_imports(project: Path) -> None:
    path = notebook(project / "notebooks" / "imports.ipynb", 'lang = "zh"\n')
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "i",
            "metadata": {},
            "outputs": [],
            "source": "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
            "from analysis import figures, narrative as nv\nfrom os.path import *\n",
        }
    )
    path.write_text(json.dumps(nb), encoding="utf-8")
    spec = load_spec(
        write_spec(project, '[reports.imports]\nnotebook = "notebooks/imports.ipynb"\n')
    )
    assert spec.reports["imports"].notebook_info.imports == (
        "matplotlib.pyplot",
        "analysis",
        "analysis.figures",
        "analysis.narrative",
        "os.path",
    )


def with_source(project: Path, source: str) -> str:
    """The fixture's reports.toml with its [source] table replaced by `source`."""
    text = (project / "reports.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("[source]\n")
    _, _, tail = rest.partition("\n\n")
    return f"{head}[source]\n{source}\n\n{tail}"


def test_a_citation_is_composed_from_the_origin_records(project: Path) -> None:
    """`source = { articles = [...] }` gives each language's citation from sources.toml."""
    from analysis.corpus import load_corpus

    spec = load_spec(write_spec(project, with_source(project, 'articles = ["a2", "a1"]')))
    articles = {a.id: a for a in load_corpus().articles}
    citation = spec.source["zh"]
    # both articles, in the order asked for, with every author
    first, second = (citation.index(articles[i].title) for i in ("a2", "a1"))
    assert first < second
    for article in articles.values():
        assert all(author in citation for author in article.authors)
    # English: the titles translated and marked as Chinese-language works, the authors
    # romanised (data/raw/author_names.csv), still in the order asked for; no Chinese left
    english = spec.source["en"]
    assert english.index("Geng Yi") < english.index("Cheng Nan")
    assert english.count("(in Chinese)") == 2
    assert not re.search(r"[\u4e00-\u9fff]", english)
    assert spec.source["zh"].startswith("资料来源：赛迪智库集成电路研究所")
    assert "Institute of Integrated Circuits" in spec.source["en"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('articles = ["a9"]', ["[source]", "a9", "a1"]),
        ('articles = ["a1"]\nzh = "x"', ["[source]", "no other key"]),
        ("articles = 1", ["[source] articles", "list of strings"]),
    ],
)
def test_a_bad_citation_names_the_entry(project: Path, source: str, expected: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(project, with_source(project, source)))
    for part in expected:
        assert part in str(info.value)


def test_a_folder_given_as_the_reports_file_is_named_as_a_folder(project: Path) -> None:
    with pytest.raises(SpecError, match=r"is a folder, not a file: --reports-file takes"):
        load_spec(project)


def test_extra_notebooks_are_read_but_are_no_reports(project: Path) -> None:
    notebook(project / "notebooks" / "explore.ipynb", 'province = "江苏"')
    text = (project / "reports.toml").read_text(encoding="utf-8")
    spec = load_spec(
        write_spec(project, text + '[notebooks]\nextra = ["notebooks/explore.ipynb"]\n')
    )
    (extra,) = spec.extra
    assert (extra.name, extra.kernel, extra.formats, extra.grid) == ("explore", "analysis", (), ())
    assert extra.notebook_info.params["province"].default == "江苏"
    assert "explore" not in spec.reports
    assert ids(spec) == ["chart.zh", "chart.en", "fragile.1", "fragile.0"]  # no job for it


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('extra = ["notebooks/chart.ipynb"]', "notebooks/chart.ipynb is listed twice, or is a"),
        ('extra = ["notebooks/nope.ipynb"]', "[notebooks]: notebook"),
        ('extra = "notebooks/x.ipynb"', "[notebooks] extra: expected a list of strings"),
        ('extar = ["notebooks/x.ipynb"]', "unknown key 'extar' (did you mean 'extra'?)"),
    ],
)
def test_a_bad_extra_notebook_entry_is_named(project: Path, extra: str, expected: str) -> None:
    text = (project / "reports.toml").read_text(encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(project, f"{text}[notebooks]\n{extra}\n"))
    assert expected in str(info.value)
