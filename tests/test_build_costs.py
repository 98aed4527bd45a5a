"""The per-job cost cuts of issue 13: chart formats a report declares, the base map computed
once in the kernel template process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from buildkit import add_package, run, write_notebook

from analysis.paths import ROOT
from analysis.publish.spec import SpecError, load_spec

# Saves one file per chart format the build asks for, as `chart_kit.finish` does.
SAVING = [
    "x = 1",
    "from analysis.paths import figure_formats, figures_dir\n"
    "for fmt in figure_formats(('png', 'svg')):\n"
    "    (figures_dir() / f'chart.{fmt}').write_text(fmt)",
]


def project_with(tmp_path, entries: str):
    project = add_package(tmp_path / "project")
    write_notebook(project / "notebooks" / "saves.ipynb", SAVING, "saves")
    (project / "reports.toml").write_text(
        '[defaults]\nformats = ["html"]\n\n' + entries, encoding="utf-8"
    )
    return project


def test_svg_copies_only_for_the_reports_that_declare_them(tmp_path) -> None:
    project = project_with(
        tmp_path,
        '[reports.plain]\nnotebook = "notebooks/saves.ipynb"\n\n'
        '[reports.slides]\nnotebook = "notebooks/saves.ipynb"\nfigures = ["png", "svg"]\n',
    )
    summary, text = run(project)
    assert summary.exit_code == 0, text
    manifest = json.loads((project / "reports" / "manifest.json").read_text(encoding="utf-8"))
    figures = {job: sorted(info["figures"]) for job, info in manifest["jobs"].items()}
    # Both jobs save under the same name: what differs is which formats each was asked for.
    assert figures["plain"] == ["figures/chart.png"]
    assert figures["slides"] == ["figures/chart.png", "figures/chart.svg"]


def test_the_chart_formats_are_checked(tmp_path) -> None:
    project = project_with(
        tmp_path, '[reports.bad]\nnotebook = "notebooks/saves.ipynb"\nfigures = ["png", "jpg"]\n'
    )
    with pytest.raises(SpecError, match=r"\[reports.bad\] figures: unknown chart format 'jpg'"):
        load_spec(project / "reports.toml")
    spec = load_spec(ROOT / "reports.toml")
    assert spec.reports["province_profile"].figures == ("png",)
    assert spec.reports["cluster_policy"].figures == ("png", "svg")


_TEMPLATE = """
import json
from analysis.publish.zygote import warm_up
from analysis.report import map_geometry
warm_up(["analysis.report.charts"], calls=True)
views = map_geometry._default_views()
geom = views.main.units[320000]
path = map_geometry.geometry_to_path(geom)
print(json.dumps({
    "views_cached": map_geometry._default_views.cache_info().currsize,
    "same_path": path is map_geometry.geometry_to_path(geom),
    "readonly": path.readonly,
    "words_parsed": __import__("analysis.report.lang").report.lang.load_words.cache_info().currsize,
}))
"""


def _run_fresh(script: str) -> dict:
    """Run `script` in a new interpreter, as a template process starts (from notebooks/, Agg,
    a bare environment), and return the JSON of its last line."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "notebooks",
        capture_output=True,
        text=True,
        check=True,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_template_process_computes_the_base_map_once_and_reads_no_words() -> None:
    """What the template process does before it forks kernels: the projected base map and its
    paths (shared, read-only), and never a words file (kernels must read the current one)."""
    found = _run_fresh(_TEMPLATE)
    assert found == {"views_cached": 1, "same_path": True, "readonly": True, "words_parsed": 0}


def test_a_build_of_some_formats_renders_those_and_a_later_build_the_rest(tmp_path) -> None:
    """`analysis preview` renders HTML alone: the page is the full build's, the record says
    what was written, a build of all formats then renders the PDF, and a later HTML-only
    rebuild removes the PDF it would otherwise leave beside a page that says something else."""
    project = project_with(
        tmp_path, '[reports.plain]\nnotebook = "notebooks/saves.ipynb"\nformats = ["html", "pdf"]\n'
    )
    reports = project / "reports"
    summary, text = run(project, formats=("html",))
    assert summary.exit_code == 0 and summary.built == ["plain"], text
    assert not (reports / "pdf").exists()
    record = json.loads((reports / ".build" / "plain.json").read_text(encoding="utf-8"))
    assert sorted(record["outputs"]) == ["html/plain.html", "notebooks/plain.ipynb"]
    page = (reports / "html" / "plain.html").read_bytes()
    assert run(project, formats=("html",))[0].skipped == ["plain"]  # up to date for HTML alone

    summary, text = run(project)  # every format: the PDF is missing, so the job is built
    assert summary.built == ["plain"], text
    assert (reports / "pdf" / "plain.pdf").is_file()
    assert (reports / "html" / "plain.html").read_bytes() == page  # the same key, same page

    summary, text = run(project, formats=("html",), force=True)
    assert summary.built == ["plain"], text
    assert not (reports / "pdf" / "plain.pdf").exists()


def test_a_no_op_build_renders_no_index_and_hashes_each_file_once(tmp_path, monkeypatch) -> None:
    """Nothing to build and nothing `finish` reads changed: no kernel check (jupyter_client),
    no index (pandas, the data), no site files, and every file is hashed at most once."""
    from collections import Counter

    from analysis.publish import cache, engine, index, site

    project = project_with(tmp_path, '[reports.plain]\nnotebook = "notebooks/saves.ipynb"\n')
    reports = project / "reports"
    assert run(project)[0].built == ["plain"]

    def refuse(*args, **kwargs):
        raise AssertionError("a no-op build did this")

    checked: list[list[str]] = []
    hashed: Counter[str] = Counter()
    real_sha = cache.file_sha256
    monkeypatch.setattr(engine, "check_kernels", lambda spec, jobs: checked.append(jobs))
    monkeypatch.setattr(cache, "file_sha256", lambda p: hashed.update([str(p)]) or real_sha(p))
    with monkeypatch.context() as patched:
        patched.setattr(index, "render_index", refuse)
        patched.setattr(site, "write_site", refuse)
        summary, text = run(project)
    assert summary.skipped == ["plain"], text
    assert checked == [[]]
    assert hashed and max(hashed.values()) == 1, hashed

    # What `finish` wrote is checked: a manifest edited by hand, a removed index come back.
    manifest = (reports / "manifest.json").read_bytes()
    (reports / "manifest.json").write_bytes(manifest.replace(b"plain", b"plaiN"))
    (reports / "index.html").unlink()
    assert run(project)[0].skipped == ["plain"]
    assert (reports / "manifest.json").read_bytes() == manifest
    assert (reports / "index.html").is_file()


_IDLE = """
import json
import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import font_manager
from analysis.publish.zygote import call_listed, warm_up
done = warm_up(["analysis.report.charts"], calls=True)
rc = dict(mpl.rcParams)
fonts = font_manager._get_font.cache_info().currsize
call_listed(done, "IDLE_CALLS")
print(json.dumps({
    "fonts_opened": font_manager._get_font.cache_info().currsize > fonts,
    "rc_unchanged": dict(mpl.rcParams) == rc,
    "figures": plt.get_fignums(),
    "words_parsed": __import__("analysis.report.lang").report.lang.load_words.cache_info().currsize,
}))
"""


def test_the_idle_warm_draw_fills_the_font_caches_and_leaves_no_state() -> None:
    found = _run_fresh(_IDLE)
    assert found == {"fonts_opened": True, "rc_unchanged": True, "figures": [], "words_parsed": 0}


def test_the_template_process_runs_idle_calls_only_after_its_first_fork(tmp_path) -> None:
    """`IDLE_CALLS` never delay the first kernel: they run once it is forked, and once."""
    import os
    import time

    from analysis.publish.zygote import Zygote

    (tmp_path / "idle_probe.py").write_text(
        "import pathlib\nIDLE_CALLS = ('mark',)\n"
        "def mark():\n"
        "    path = pathlib.Path(__file__).with_name('marks')\n"
        "    path.write_text(path.read_text() + 'x' if path.exists() else 'x')\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    zygote = Zygote([sys.executable], ["idle_probe"], env, str(tmp_path))
    marks = tmp_path / "marks"
    # A request whose child fails at once (no such folder): the template process goes on.
    request = ("unused.json", str(tmp_path / "no-such-folder"), {}, os.devnull)
    try:
        assert zygote.process.stdout.readline().strip() == '{"ready": true}'
        zygote._ready = True
        time.sleep(0.3)
        assert not marks.exists()
        zygote.fork(*request)
        deadline = time.monotonic() + 10
        while not marks.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        zygote.fork(*request)
        assert marks.read_text() == "x"
    finally:
        zygote.close()


_KERNELS = """
import sys
from types import SimpleNamespace
from analysis.publish.engine import check_kernels
job = SimpleNamespace(report=SimpleNamespace(kernel="analysis", name="page"))
check_kernels(SimpleNamespace(path=None), [job])
print("jupyter_client" in sys.modules)
"""


def test_an_installed_kernel_is_checked_without_importing_jupyter_client() -> None:
    """The kernel check reads the kernelspec folders (jupyter_client costs a fifth of a second
    before the first job starts); an unknown name still gets KernelSpecManager's error."""
    done = subprocess.run(
        [sys.executable, "-c", _KERNELS], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


_PRELOAD = """
import json, sys, threading
from analysis.publish import execute
execute.preload(True)
rt = execute.Runtime(use_zygote=True)
rt.prepare_export()
print(json.dumps({
    "threads": threading.active_count(),
    "loaded": all(m in sys.modules for m in ("papermill", "nbclient", "nbconvert", "weasyprint")),
    "export_thread": rt._export_thread is not None,
}))
"""


def test_the_build_loads_the_workers_libraries_once_and_can_still_fork() -> None:
    """`execute.preload`, run in the build's process before it forks its workers: the
    libraries are loaded and warmed, so a worker does not prepare them again, and the process
    still runs a single thread (a fork copies only the thread that forks: a lock another
    thread held would stay locked in every worker)."""
    found = _run_fresh(_PRELOAD)
    assert found == {"threads": 1, "loaded": True, "export_thread": False}


_MAP_AFTER_IDLE = """
import io
import json
import matplotlib.pyplot as plt
from analysis.paths import ROOT
from analysis.publish.spec import load_spec
from analysis.publish.zygote import call_listed, warm_up
imports = load_spec(ROOT / "reports.toml").reports["province_profile"].notebook_info.imports
done = warm_up(list(imports), calls=True)
call_listed(done, "IDLE_CALLS")
from analysis.report import charts, display, style, views
measured = []
def counted(name, own):
    def call(*args, **kwargs):
        measured.append(name)
        return own(*args, **kwargs)
    return call
for name in ("_wrap_measured", "_line_box_measured"):
    setattr(style, name, counted(name, getattr(style, name)))
found, layouts = {}, {}
def draw(province, lang):
    display.setup_notebook(lang)
    before = len(style._LAYOUTS)
    fig = charts.province_locator(views.winners_by_province(), province, lang, save=False)
    fig.savefig(io.BytesIO(), format="png")  # as a profile saves it
    plt.close(fig)
    return fig.get_supxlabel(), len(style._LAYOUTS) - before
for province in ("江苏", "西藏", "广东"):  # on the winners map, the terms map; one not warmed
    for lang in ("zh", "en"):
        found[f"{province} {lang}"], layouts[f"{province} {lang}"] = draw(province, lang)
in_kernel = len(measured)
afresh = {}
for province in ("江苏", "西藏", "广东"):
    for lang in ("zh", "en"):
        style._MEASURED.clear()  # measured afresh: the same lines
        style._LAYOUTS.clear()
        caption, afresh[f"{province} {lang}"] = draw(province, lang)
        found[f"{province} {lang}"] = found[f"{province} {lang}"] == caption
print(json.dumps({"in_kernel": in_kernel, "afresh": len(measured) - in_kernel, "same": found,
                  "layouts": layouts, "layouts_afresh": afresh}))
"""


def test_a_profiles_map_measures_no_text_the_template_process_measured() -> None:
    """The template's idle warm-up wraps the source lines of the two maps of a profile in both
    languages, measures the line boxes of both font stacks and lays out both maps
    (`charts.warm_maps`): a kernel forked after it measures none of those lines again (they
    are remembered under their text and the font rcParams, `style._MEASURED`), lays out no
    text of a warmed map again, and few of another province's (`style._LAYOUTS`); the lines
    are those measured afresh."""
    found = _run_fresh(_MAP_AFTER_IDLE)
    maps = [f"{p} {lang}" for p in ("江苏", "西藏", "广东") for lang in ("zh", "en")]
    assert found["same"] == dict.fromkeys(maps, True)
    assert found["in_kernel"] == 0
    assert found["afresh"] > 0  # what is counted is what a fresh process measures
    warmed, afresh = found["layouts"], found["layouts_afresh"]
    assert all(afresh[m] >= 20 for m in maps), afresh  # what a fresh process lays out
    assert [warmed[f"{p} {lang}"] for p in ("江苏", "西藏") for lang in ("zh", "en")] == [0] * 4
    assert all(warmed[f"广东 {lang}"] <= afresh[f"广东 {lang}"] // 4 for lang in ("zh", "en")), (
        warmed,
        afresh,
    )


_PRELOAD_FAILING = """
import json
from analysis.publish import execute, export
def broken():
    raise OSError("no font here")
export.prepare = broken
execute.preload(True)
rt = execute.Runtime(use_zygote=True)
print(json.dumps({"export_preloaded": execute._PRELOADED["export"],
                  "libraries": execute._PRELOADED["libraries"]}))
"""


def test_a_preload_that_cannot_warm_the_export_leaves_it_to_the_workers() -> None:
    """`execute.preload` in the build's process never fails the build: when the export cannot
    be warmed up there (a font missing, say), each worker prepares it for itself, and a job
    that cannot be exported says why in its own log."""
    assert _run_fresh(_PRELOAD_FAILING) == {"export_preloaded": False, "libraries": True}


def test_a_template_process_that_cannot_start_is_left_to_the_workers(monkeypatch) -> None:
    """No shared template process for a kernel whose interpreter cannot be started: the
    build goes on, and its workers start their own (or kernels the usual way)."""
    from analysis.publish import execute, executors

    monkeypatch.setattr(
        execute, "template_command", lambda kernel: (["/no/such/python"], {"PATH": "/usr/bin"})
    )
    assert executors._shared_zygotes([("analysis", "/tmp")], (), 2) == {}
