"""Read `reports.toml`, check it against each notebook's parameters cell, and select jobs.

Everything here runs before any kernel starts and imports only the standard library, so a typo
costs a fraction of a second and a clear message (the format is documented in
`analysis.publish`).
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AnalysisError, InputError

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")
# The files each chart a report's notebook saves is written as (`figures = [...]`): PNG always
# suffices for the pages; an SVG copy (for slides) only where a report declares it, since a
# map's SVG is a megabyte and a sixth of the job's time (62 province maps, 70 MB a build).
FIGURE_FORMATS = ("png", "svg")
DEFAULT_FIGURE_FORMATS = ("png",)
DEFAULT_KERNEL = "analysis"
DEFAULT_INPUTS = ("data/raw/**", "data/processed/**")
LANG = "lang"

_TOP_KEYS = ("defaults", "site", "source", "reports", "notebooks")
_DEFAULT_KEYS = ("formats", "kernel", "inputs", "figures")
_REPORT_KEYS = (
    "notebook",
    "title",
    "params",
    "formats",
    "kernel",
    "inputs",
    "source",
    "figures",
    "description",
    "heading",
    "data",
)
_SITE_KEYS = ("title",)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SCALAR = (str, int, float, bool)


class SpecError(InputError):
    """`reports.toml`, a notebook's parameters cell or a requested selection is invalid."""


class UnknownSelectionError(AnalysisError):
    """`--only`, `--param` or `--lang` names a report, parameter or value that does not exist."""


# --------------------------------------------------------------------------- named value sets


@dataclass(frozen=True)
class ParamSet:
    """A named set of parameter values usable in a grid as "@name".

    `values()` lists the canonical values; `normalise(text)` maps an alias typed by a person to
    its canonical value (raising an AnalysisError with the valid choices otherwise); `slug`
    gives the ASCII part of a job id; `label(value, lang)` the text shown to readers.
    """

    values: Callable[[], Sequence[Any]]
    normalise: Callable[[Any], Any] = lambda value: value
    slug: Callable[[Any], str] | None = None
    label: Callable[[Any, str], str] | None = None


def _mainland_values() -> list[str]:
    from .. import provinces

    return [unit.short_zh for unit in provinces.mainland()]


def _province_normalise(value: Any) -> str:
    from .. import provinces

    return provinces.resolve(value).short_zh


def _province_slug(value: Any) -> str:
    from .. import provinces

    return slugify(provinces.resolve(value).name_en)


def _province_label(value: Any, lang: str) -> str:
    from .. import provinces

    unit = provinces.resolve(value)
    return unit.short_zh if lang == "zh" else unit.name_en


PARAM_SETS: dict[str, ParamSet] = {
    "mainland": ParamSet(
        values=_mainland_values,
        normalise=_province_normalise,
        slug=_province_slug,
        label=_province_label,
    ),
}


def register_param_set(name: str, param_set: ParamSet) -> None:
    """Make "@name" usable in reports.toml grids (tests and extensions register their own)."""
    PARAM_SETS[name] = param_set


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and underscores: the form used in file names."""
    slug = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return slug or "x"


# --------------------------------------------------------------------------- notebook parameters


@dataclass(frozen=True)
class NotebookParam:
    """One assignment in a notebook's parameters cell."""

    name: str
    default: Any  # the literal value, or None when it is not a literal
    has_literal_default: bool
    choices: tuple[Any, ...] | None  # from a `Literal[...]` annotation


@dataclass(frozen=True)
class NotebookInfo:
    """What the build needs to know about a notebook without running it."""

    path: Path
    params: dict[str, NotebookParam]
    kernel: str | None
    imports: tuple[str, ...]  # modules the notebook imports at top level, for kernel warm-up


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _literal_choices(annotation: ast.expr | None) -> tuple[Any, ...] | None:
    if not isinstance(annotation, ast.Subscript):
        return None
    base = annotation.value
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
    if name != "Literal":
        return None
    inner = annotation.slice
    items = inner.elts if isinstance(inner, ast.Tuple) else [inner]
    try:
        return tuple(ast.literal_eval(item) for item in items)
    except ValueError:
        return None


def parse_parameters(source: str, where: str) -> dict[str, NotebookParam]:
    """Return the parameters assigned in a parameters cell's source (`where` names it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SpecError(
            f"{where}: the parameters cell is not valid Python (line {exc.lineno}: {exc.msg}); "
            "fix the cell so that papermill can inject parameters after it."
        ) from exc
    params: dict[str, NotebookParam] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value, annotation = node.targets[0], node.value, None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value, annotation = node.target, node.value, node.annotation
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            default, literal = ast.literal_eval(value), True
        except ValueError:
            default, literal = None, False
        params[target.id] = NotebookParam(target.id, default, literal, _literal_choices(annotation))
    return params


def _imports(cells: Iterable[Mapping[str, Any]]) -> list[str]:
    """Modules imported at the top level of the notebook's code cells (IPython magics skipped)."""
    found: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        lines = [line for line in _source(cell).splitlines() if line.lstrip()[:1] not in "%!"]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
                # `from analysis.report import charts` imports analysis.report.charts; for a
                # name that is not a module, the warm-up's import attempt fails harmlessly.
                found += [
                    f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"
                ]
    return list(dict.fromkeys(found))


def read_notebook(path: Path, where: str) -> NotebookInfo:
    """Parse a notebook's JSON for its parameters cell, kernel and imports (no kernel, no nbformat).

    Raises SpecError when the file is missing, is not a notebook or has no cell tagged
    `parameters`.
    """
    if not path.is_file():
        raise SpecError(f"{where}: notebook {path} does not exist; fix the path or add the file.")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SpecError(f"{where}: {path} is not a Jupyter notebook (nbformat 4 JSON).") from exc
    tagged = [
        cell
        for cell in cells
        if cell.get("cell_type") == "code"
        and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if not tagged:
        raise SpecError(
            f"{where}: {path.name} has no code cell tagged 'parameters'. Add one near the top "
            'that assigns every parameter its default (e.g. lang = "zh"), so that the build '
            "can check parameters and papermill can inject them."
        )
    params = parse_parameters(_source(tagged[0]), f"{where} ({path.name}, parameters cell)")
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return NotebookInfo(path, params, kernel, tuple(_imports(cells)))


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class GridParam:
    """One grid entry: its values and whether it varies (then it is part of the job id)."""

    name: str
    values: tuple[Any, ...]
    varies: bool
    param_set: ParamSet | None = None


@dataclass(frozen=True)
class ReportSpec:
    """One `[reports.NAME]` table, validated."""

    name: str
    notebook: Path
    notebook_info: NotebookInfo
    grid: tuple[GridParam, ...]
    formats: tuple[str, ...]
    kernel: str
    inputs: tuple[str, ...]
    title: dict[str, str]
    source: dict[str, str]
    figures: tuple[str, ...] = DEFAULT_FIGURE_FORMATS  # the files each saved chart is written as
    # What the index says of the report, by language (`description = { zh = "…", en = "…" }`).
    description: dict[str, str] = field(default_factory=dict)
    # What the index calls the report, by language, where no one title fits every page of its
    # grid (`heading = { zh = "…", en = "…" }`; otherwise the index shows the titles).
    heading: dict[str, str] = field(default_factory=dict)
    # The tables of data/processed/ the report shows (`data = ["table", ...]`): the build copies
    # them, as CSV and with the workbook, under reports/data/ and the report links them.
    data: tuple[str, ...] = ()
    # The source's articles the report reads (from its `source`, or the site's): their origin
    # records give the title block its publisher and dates.
    articles: tuple[str, ...] = ()

    def grid_param(self, name: str) -> GridParam | None:
        """The grid entry called `name`, or None."""
        return next((entry for entry in self.grid if entry.name == name), None)


@dataclass(frozen=True)
class Spec:
    """The whole report list."""

    path: Path
    root: Path  # the directory of reports.toml: notebook and input paths are relative to it
    reports: dict[str, ReportSpec]
    site_title: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    # `[notebooks] extra`: committed notebooks that are not reports (see `_extra_notebooks`).
    extra: tuple[ReportSpec, ...] = ()


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise SpecError(
                f"{where}: unknown key {key!r}{_suggest(key, allowed)}; valid keys: "
                f"{', '.join(allowed)}."
            )


def _text_by_lang(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise SpecError(f'{where}: expected a string or a table such as {{ zh = "…", en = "…" }}.')


def _citation(value: Any, where: str) -> dict[str, str]:
    """A `source` entry: text by language, or `{ articles = ["a1", ...] }`, the citation
    composed from the origin records of those articles (`report.citations.report_citation`), so that
    authors and titles are typed once, in data/raw/sources.toml."""
    if isinstance(value, dict) and "articles" in value:
        from ..errors import InputError
        from ..report.citations import report_citation
        from ..report.lang import LANGS

        if set(value) != {"articles"}:
            raise SpecError(f"{where}: a table with `articles` takes no other key.")
        ids = _str_list(value["articles"], f"{where} articles")
        try:
            return {lang: report_citation(ids, lang) for lang in LANGS}
        except InputError as exc:
            raise SpecError(f"{where}: {exc}") from None
    return _text_by_lang(value, where)


def _articles(value: Any) -> tuple[str, ...]:
    """The article ids of a `source = { articles = [...] }` entry (none for a plain text)."""
    if isinstance(value, dict) and isinstance(value.get("articles"), list):
        return tuple(str(v) for v in value["articles"])
    return ()


def _data_tables(value: Any, root: Path, where: str) -> tuple[str, ...]:
    """A report's `data`: names of tables that data/processed/datapackage.json lists."""
    if value is None:
        return ()
    names = _str_list(value, where)
    package = root / "data" / "processed" / "datapackage.json"
    try:
        import json

        known = [r["name"] for r in json.loads(package.read_text("utf-8"))["resources"]]
    except (OSError, ValueError, KeyError, TypeError):
        return names  # checked again when the files are copied (`site.write_site`)
    for table in names:
        if table not in known:
            raise SpecError(
                f"{where}: unknown table {table!r}{_suggest(table, known)}; the tables are "
                f"listed in data/processed/datapackage.json."
            )
    return names


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{where}: expected a list of strings, got {value!r}.")
    return tuple(value)


def _figure_formats(value: Any, where: str) -> tuple[str, ...]:
    """`figures = ["png", "svg"]`: at least one, each known, each once."""
    formats = _str_list(value, f"{where} figures")
    for fmt in formats:
        if fmt not in FIGURE_FORMATS:
            raise SpecError(
                f"{where} figures: unknown chart format {fmt!r}{_suggest(fmt, FIGURE_FORMATS)}; "
                f"valid formats: {', '.join(FIGURE_FORMATS)}."
            )
    if not formats or len(set(formats)) != len(formats):
        raise SpecError(f'{where} figures: give each chart format once, e.g. ["png", "svg"].')
    return formats


def _formats(value: Any, where: str) -> tuple[str, ...]:
    formats = _str_list(value, where)
    for fmt in formats:
        if fmt not in FORMATS:
            raise SpecError(
                f"{where}: unknown format {fmt!r}{_suggest(fmt, FORMATS)}; valid formats: "
                f"{', '.join(FORMATS)}."
            )
    return formats


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def check_value(param: NotebookParam, value: Any, where: str) -> None:
    """Raise SpecError when `value` does not fit the notebook's parameter (type or Literal)."""
    if (
        param.has_literal_default
        and param.default is not None
        and not _same_type(value, param.default)
    ):
        raise SpecError(
            f"{where}: value {value!r} for {param.name!r} is a {type(value).__name__}, but the "
            f"notebook's default {param.default!r} is a {type(param.default).__name__}."
        )
    if param.choices is not None and value not in param.choices:
        raise SpecError(
            f"{where}: value {value!r} is not allowed for {param.name!r}; the notebook allows "
            f"{', '.join(map(repr, param.choices))}."
        )


def _grid(raw: Any, info: NotebookInfo, where: str) -> tuple[GridParam, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise SpecError(f'{where}: params must be a table such as {{ lang = ["zh", "en"] }}.')
    grid = []
    for name, value in raw.items():
        entry_where = f"{where}.{name}"
        if name not in info.params:
            raise SpecError(
                f"{entry_where}: the notebook {info.path.name} has no parameter {name!r}"
                f"{_suggest(name, info.params)}; its parameters cell assigns: "
                f"{', '.join(info.params) or 'nothing'}."
            )
        param_set = None
        if isinstance(value, str) and value.startswith("@"):
            set_name = value[1:]
            if set_name not in PARAM_SETS:
                raise SpecError(
                    f"{entry_where}: unknown value set {value!r}{_suggest(set_name, PARAM_SETS)}; "
                    f"known sets: {', '.join('@' + n for n in PARAM_SETS)}."
                )
            param_set = PARAM_SETS[set_name]
            values, varies = tuple(param_set.values()), True
        elif isinstance(value, list):
            values, varies = tuple(value), True
        elif isinstance(value, _SCALAR):
            values, varies = (value,), False
        else:
            raise SpecError(f'{entry_where}: expected a value, a list of values or "@set".')
        if not values:
            raise SpecError(f"{entry_where}: the list of values is empty.")
        if len(set(map(repr, values))) != len(values):
            raise SpecError(f"{entry_where}: the list of values repeats a value.")
        for item in values:
            if not isinstance(item, _SCALAR):
                raise SpecError(
                    f"{entry_where}: value {item!r} is not a string, number or boolean."
                )
            check_value(info.params[name], item, entry_where)
        grid.append(GridParam(name, values, varies, param_set))
    # The language varies fastest so that a report's two languages sit side by side.
    grid.sort(key=lambda entry: entry.name == LANG)
    return tuple(grid)


def load_spec(path: Path) -> Spec:
    """Read and validate `reports.toml` and every notebook it names; raise SpecError if invalid."""
    path = Path(path)
    if path.is_dir():
        raise SpecError(
            f"{path} is a folder, not a file: --reports-file takes the reports.toml file "
            f"itself (e.g. {path / 'reports.toml'})."
        )
    if not path.is_file():
        raise SpecError(
            f"{path} does not exist: the build needs the list of reports (see the docstring of "
            "analysis.publish for the format), or pass --reports-file PATH."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}.") from exc
    name = path.name
    _check_keys(data, _TOP_KEYS, name)
    defaults = data.get("defaults", {})
    _check_keys(defaults, _DEFAULT_KEYS, f"{name} [defaults]")
    site = data.get("site", {})
    _check_keys(site, _SITE_KEYS, f"{name} [site]")
    default_formats = _formats(defaults.get("formats", list(DEFAULT_FORMATS)), f"{name} [defaults]")
    default_kernel = defaults.get("kernel", DEFAULT_KERNEL)
    default_figures = _figure_formats(
        defaults.get("figures", list(DEFAULT_FIGURE_FORMATS)), f"{name} [defaults]"
    )
    default_inputs = _str_list(defaults.get("inputs", list(DEFAULT_INPUTS)), f"{name} [defaults]")
    source = _citation(data.get("source"), f"{name} [source]")
    site_articles = _articles(data.get("source"))
    reports_table = data.get("reports")
    if not isinstance(reports_table, dict) or not reports_table:
        raise SpecError(f"{name}: no [reports.NAME] table; declare at least one report.")
    root = path.parent
    reports: dict[str, ReportSpec] = {}
    for report_name, entry in reports_table.items():
        where = f"{name} [reports.{report_name}]"
        if not _NAME.match(report_name):
            raise SpecError(f"{where}: a report name is lower-case ASCII letters, digits and '_'.")
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: expected a table.")
        _check_keys(entry, _REPORT_KEYS, where)
        if "notebook" not in entry or not isinstance(entry["notebook"], str):
            raise SpecError(f'{where}: missing notebook = "notebooks/NAME.ipynb".')
        notebook = root / entry["notebook"]
        info = read_notebook(notebook, where)
        kernel = entry.get("kernel", default_kernel)
        reports[report_name] = ReportSpec(
            name=report_name,
            notebook=notebook,
            notebook_info=info,
            grid=_grid(entry.get("params"), info, f"{where} params"),
            formats=_formats(entry.get("formats", list(default_formats)), where),
            kernel=kernel,
            inputs=_str_list(entry.get("inputs", list(default_inputs)), where),
            title=_text_by_lang(entry.get("title"), f"{where} title"),
            source=_citation(entry.get("source"), f"{where} source") or source,
            figures=_figure_formats(entry.get("figures", list(default_figures)), where),
            description=_text_by_lang(entry.get("description"), f"{where} description"),
            heading=_text_by_lang(entry.get("heading"), f"{where} heading"),
            data=_data_tables(entry.get("data"), root, f"{where} data"),
            articles=_articles(entry.get("source")) or site_articles,
        )
    site_title = _text_by_lang(site.get("title"), f"{name} [site] title")
    extra = _extra_notebooks(data.get("notebooks", {}), root, default_kernel, reports, name)
    return Spec(path, root, reports, site_title, source, extra)


def _extra_notebooks(
    table: Any, root: Path, kernel: str, reports: Mapping[str, ReportSpec], name: str
) -> tuple[ReportSpec, ...]:
    """`[notebooks] extra = ["notebooks/explore.ipynb"]`: notebooks that are no report but are
    committed with their outputs like the reports' (the start-here notebook), so that
    `analysis build --update-notebooks` runs them too, with their default parameters, and its
    `--check` and nbval compare them. `analysis build` never builds them into reports."""
    where = f"{name} [notebooks]"
    if not isinstance(table, dict):
        raise SpecError(f'{where}: expected a table such as extra = ["notebooks/x.ipynb"].')
    _check_keys(table, ("extra",), where)
    taken = {report.notebook.resolve() for report in reports.values()}
    extra = []
    for entry in _str_list(table.get("extra", []), f"{where} extra"):
        path = root / entry
        if path.resolve() in taken:
            raise SpecError(f"{where}: {entry} is listed twice, or is a report's notebook.")
        taken.add(path.resolve())
        info = read_notebook(path, where)
        extra.append(
            ReportSpec(
                name=path.stem,
                notebook=path,
                notebook_info=info,
                grid=(),
                formats=(),
                kernel=kernel,
                inputs=(),
                title={},
                source={},
            )
        )
    return tuple(extra)


# --------------------------------------------------------------------------- selection


def parse_param_args(items: Sequence[str]) -> dict[str, str]:
    """Turn `["k=v", ...]` from the command line into a dict (a repeated key is an error)."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UnknownSelectionError(
                f"--param {item!r}: expected NAME=VALUE, e.g. province=江苏."
            )
        if key in result:
            raise UnknownSelectionError(f"--param {key} is given twice.")
        result[key] = value.strip()
    return result


def _convert(text: str, param: NotebookParam) -> Any:
    """Convert a command-line string to the type of the notebook default."""
    default = param.default
    try:
        if isinstance(default, bool):
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise UnknownSelectionError(
            f"--param {param.name}={text}: expected a {type(default).__name__} like the "
            f"notebook's default {default!r}."
        ) from None
    return text


def _valid_list(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def select(
    spec: Spec, only: Sequence[str] = (), params: Mapping[str, str] | None = None
) -> list[tuple[ReportSpec, dict[str, Any]]]:
    """Return (report, parameters) pairs for every job the selection asks for, in spec order.

    `only` restricts the reports; `params` (from --param and --lang) restricts grid values or
    sets other notebook parameters. Unknown names and values raise UnknownSelectionError that
    lists the valid ones.
    """
    params = dict(params or {})
    for name in only:
        if name not in spec.reports:
            raise UnknownSelectionError(
                f"--only {name}: no such report in {spec.path.name}{_suggest(name, spec.reports)}; "
                f"reports: {', '.join(spec.reports)}."
            )
    chosen = [spec.reports[n] for n in spec.reports if not only or n in only]
    if params:
        having = [r for r in chosen if all(k in r.notebook_info.params for k in params)]
        if not having:
            for key in params:
                known = sorted({p for r in chosen for p in r.notebook_info.params})
                if not any(key in r.notebook_info.params for r in chosen):
                    raise UnknownSelectionError(
                        f"--param {key}: no selected report has a parameter {key!r}"
                        f"{_suggest(key, known)}; parameters: {', '.join(known)}."
                    )
            raise UnknownSelectionError(
                f"no selected report has all of the parameters {', '.join(params)}."
            )
        chosen = having
    jobs: list[tuple[ReportSpec, dict[str, Any]]] = []
    for report in chosen:
        axes: list[tuple[str, tuple[Any, ...]]] = []
        extra: dict[str, Any] = {}
        for key, text in params.items():
            param = report.notebook_info.params[key]
            entry = report.grid_param(key)
            if entry is None or not entry.varies:
                # Not varied by the grid: a command-line value makes a variant of the report.
                value = _convert(text, param)
                try:
                    check_value(param, value, f"--param {key}")
                except SpecError as exc:
                    raise UnknownSelectionError(str(exc)) from None
                extra[key] = value
                continue
            value: Any = text
            if entry.param_set is not None:
                try:
                    value = entry.param_set.normalise(text)
                except AnalysisError as exc:
                    raise UnknownSelectionError(
                        f"--param {key}={text}: {exc} Valid values for report {report.name}: "
                        f"{_valid_list(entry.values)}."
                    ) from None
            else:
                value = _convert(text, param)
            if value not in entry.values:
                raise UnknownSelectionError(
                    f"--param {key}={text}: not a value of report {report.name}'s grid in "
                    f"{spec.path.name}; valid values: {_valid_list(entry.values)}."
                )
        for entry in report.grid:
            if entry.name in params and entry.name not in extra:
                chosen_value = (
                    entry.param_set.normalise(params[entry.name])
                    if entry.param_set is not None
                    else _convert(params[entry.name], report.notebook_info.params[entry.name])
                )
                axes.append((entry.name, (chosen_value,)))
            else:
                axes.append((entry.name, entry.values))
        names = [name for name, _ in axes]
        for combo in itertools.product(*(values for _, values in axes)):
            job_params = dict(zip(names, combo, strict=True))
            job_params.update(extra)
            jobs.append((report, job_params))
    return jobs
