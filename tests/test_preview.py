"""`analysis preview`: a server on loopback that rebuilds what an edit touches and reloads.

The session test runs a real preview (warm workers, real kernels, the engine) on a small
project in a temporary folder: a report whose notebook prints a heading from the project's
narrative templates (`package/report/words/<lang>.toml`, where the preview looks for them).
It fetches the served page, edits the English template, sees the served page change, sees
a failing cell shown with its traceback, then stops the server with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from buildkit import add_package, options, write_notebook

from analysis.publish.cli import parse_formats
from analysis.publish.engine import BuildError, BuildLock
from analysis.publish.jobs import make_jobs
from analysis.publish.preview import (
    RELOAD_SCRIPT,
    Preview,
    PreviewOptions,
    changed_tables,
    jobs_for_words,
    preview,
)
from analysis.publish.spec import UnknownSelectionError, load_spec, select

NOTEBOOK = [
    'lang = "zh"',
    "import pathlib, tomllib\n"
    "from IPython.display import Markdown, display\n"
    'path = pathlib.Path("..") / "package" / "report" / "words" / f"{lang}.toml"\n'
    'heading = tomllib.loads(path.read_text(encoding="utf-8"))["page"]["heading"]\n'
    'if heading == "boom":\n'
    '    raise ValueError("the template says boom")\n'
    'display(Markdown("# " + heading))',
]


def make_project(root: Path) -> Path:
    add_package(root)
    words = root / "package" / "report" / "words"
    words.mkdir(parents=True)
    (words / "en.toml").write_text('[page]\nheading = "First heading"\n', encoding="utf-8")
    (words / "zh.toml").write_text('[page]\nheading = "第一个标题"\n', encoding="utf-8")
    write_notebook(root / "notebooks" / "page.ipynb", NOTEBOOK, "page")
    (root / "reports.toml").write_text(
        '[defaults]\nformats = ["html", "pdf"]\n\n'
        '[reports.page]\nnotebook = "notebooks/page.ipynb"\nparams = { lang = ["zh", "en"] }\n',
        encoding="utf-8",
    )
    return root


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def showing(url: str, text: str) -> str | None:
    """The page at `url` when it contains `text`."""
    page = get(url)
    return page if text in page else None


def wait_until(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, urllib.error.URLError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_words_tables_pick_the_jobs_of_their_report_and_language(tmp_path) -> None:
    project = make_project(tmp_path / "project")
    (project / "reports.toml").write_text(
        (project / "reports.toml").read_text(encoding="utf-8")
        + '\n[reports.other]\nnotebook = "notebooks/page.ipynb"\n'
        + 'params = { lang = ["zh", "en"] }\n',
        encoding="utf-8",
    )
    spec = load_spec(project / "reports.toml")
    jobs = make_jobs(select(spec))
    before = {"page": {"a": "x"}, "other": {"a": "y"}, "common": {"b": "z"}}
    assert changed_tables(before, {**before, "page": {"a": "x2"}}) == {"page"}
    assert changed_tables(before, dict(before)) == set()
    ids = lambda found: sorted(job.job_id for job in found)  # noqa: E731
    assert ids(jobs_for_words(jobs, "en", {"page"})) == ["page.en"]
    # A shared table touches every report of the language, a no-op save none.
    assert ids(jobs_for_words(jobs, "en", {"common"})) == ["other.en", "page.en"]
    assert jobs_for_words(jobs, "en", set()) == []


def test_preview_refuses_a_reports_folder_inside_the_inputs(tmp_path) -> None:
    project = make_project(tmp_path / "project")
    build = options(project, jobs=1, reports_dir=project / "notebooks" / "out")
    with pytest.raises(BuildError, match="lies inside notebooks/"):
        Preview(PreviewOptions(build=build))
    assert not (project / "notebooks" / "out").exists()


def test_preview_builds_html_alone_into_its_own_folder_by_default(tmp_path) -> None:
    project = make_project(tmp_path / "project")
    session = Preview(PreviewOptions(build=options(project, jobs=1)))
    assert session.reports_dir == project / ".preview"
    assert session.options.build.formats == ("html",)
    assert not (project / "reports").exists()
    asked = Preview(PreviewOptions(build=options(project, jobs=1, formats=("html", "pdf"))))
    assert asked.options.build.formats == ("html", "pdf")


def test_preview_formats_option_is_checked() -> None:
    assert parse_formats("html,pdf, docx,html") == ("html", "pdf", "docx")
    with pytest.raises(UnknownSelectionError, match="unknown format 'epub'"):
        parse_formats("html,epub")
    with pytest.raises(UnknownSelectionError, match="include html"):
        parse_formats("pdf")


def test_preview_serves_rebuilds_an_edited_template_and_stops(tmp_path) -> None:
    project = make_project(tmp_path / "project")
    reports = project / ".preview"  # the default folder
    build = options(project, jobs=1)
    session_options = PreviewOptions(build=build)
    found: dict[str, object] = {}
    stream = _Lines()

    def browse() -> None:
        try:
            url = wait_until(lambda: stream.url())
            status = url + "__preview/status"
            wait_until(lambda: json.loads(get(status))["generation"] >= 1)
            page = url + "html/page.en.html"
            found["first"] = get(page)
            found["on_disk"] = (reports / "html" / "page.en.html").read_text(encoding="utf-8")
            zh_record = (reports / ".build" / "page.zh.json").read_bytes()
            words = project / "package" / "report" / "words" / "en.toml"
            words.write_text('[page]\nheading = "Edited heading"\n', encoding="utf-8")
            found["edited"] = wait_until(lambda: showing(page, "Edited"))
            found["zh_untouched"] = (reports / ".build" / "page.zh.json").read_bytes() == zh_record
            words.write_text('[page]\nheading = "boom"\n', encoding="utf-8")
            found["failed"] = wait_until(lambda: showing(page, "boom"))
            found["events"] = _first_event(url)
        except BaseException as exc:  # reported by the test below
            found["error"] = exc
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=browse, daemon=True)
    helper.start()
    started = time.monotonic()
    assert preview(session_options, stream) == 0
    helper.join(5)
    assert "error" not in found, found.get("error")
    assert time.monotonic() - started < 60

    # Served pages carry the reload script; the published file carries no script at all.
    assert "First heading" in found["first"] and RELOAD_SCRIPT in found["first"]
    assert "<script" not in found["on_disk"]
    assert "Edited heading" in found["edited"] and "First heading" not in found["edited"]
    assert found["zh_untouched"], "an edit of en.toml rebuilt the Chinese job"
    # A failing cell: its source and its traceback, in the page.
    assert "ValueError" in found["failed"] and "the template says boom" in found["failed"]
    assert "raise ValueError" in found["failed"]
    assert found["events"].startswith("retry:")
    # Stopped: the port is closed and the lock is free again.
    with pytest.raises(OSError):
        get(stream.url())
    BuildLock(reports).acquire().release()
    assert "<script" not in (reports / "index.html").read_text(encoding="utf-8")
    # HTML alone (the report also declares a PDF), and nothing in the project's reports/.
    assert not (reports / "pdf").exists()
    assert not (project / "reports").exists()


def _first_event(url: str) -> str:
    with urllib.request.urlopen(url + "__preview/events?page=/", timeout=5) as response:
        return response.readline().decode()


class _Lines:
    """A stream that remembers what the preview printed, and finds the URL in it."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def url(self) -> str | None:
        for word in self.text.split():
            if word.startswith("http://127.0.0.1:"):
                return word
        return None
