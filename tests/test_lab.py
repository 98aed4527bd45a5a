"""JupyterLab as the project sets it up: `make lab` opens the start-here notebook with the project
kernel, the Simplified Chinese language pack is there to switch to, and the news prompt is off.

The checks ask JupyterLab's own server code (jupyterlab_server) what it will offer and which
defaults it will apply, in the environment the tests run in (the project's .venv); no server is
started and nothing reaches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.paths import ROOT

EXPLORE = ROOT / "notebooks" / "explore.ipynb"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"
LANGUAGE_PACK = "jupyterlab-language-pack-zh-cn"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_opens_the_start_here_notebook_with_the_project_kernel() -> None:
    done = subprocess.run(
        ["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    (line,) = [ln for ln in done.stdout.splitlines() if "jupyter lab" in ln]
    argv = line.split()
    assert argv[:2] == [".venv/bin/jupyter", "lab"]
    assert "notebooks/explore.ipynb" in argv  # the file to open (its folder is the root)
    nb = json.loads(EXPLORE.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "analysis"
    assert nb["cells"][0]["cell_type"] == "markdown"  # it starts by saying what it is


def test_the_chinese_language_pack_is_locked_and_offered() -> None:
    from importlib.metadata import entry_points, version

    from jupyterlab_server.translation_utils import get_language_packs

    pinned = f"{LANGUAGE_PACK}=={version(LANGUAGE_PACK)}"
    assert pinned in (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    assert "zh_CN" in {ep.name for ep in entry_points(group="jupyterlab.languagepack")}
    # What Settings → Language lists: English and the pack, under its own name.
    packs, message = get_language_packs("en")
    assert message == ""
    assert "中文" in packs["zh_CN"]["nativeName"]
    # And the pack translates JupyterLab's own words (a catalogue with many entries).
    from jupyterlab_server.translation_utils import get_language_pack

    catalogues, message = get_language_pack("zh_CN")
    assert message == ""
    assert len(catalogues["jupyterlab"]) > 1000


def _notification_defaults(app_settings_dir: str) -> dict:
    """The defaults JupyterLab serves for the notification settings, overrides applied."""
    from jupyterlab.labapp import LabApp
    from jupyterlab_server.settings_utils import get_settings

    app = LabApp()
    settings, _ = get_settings(
        app_settings_dir, app.schemas_dir, "/nonexistent-user-settings", schema_name=NOTIFICATION
    )
    properties = settings["schema"]["properties"]
    return {name: spec["default"] for name, spec in properties.items()}


def test_the_news_prompt_and_update_check_are_off_in_the_venv() -> None:
    from jupyterlab.labapp import LabApp

    settings_dir = LabApp().app_settings_dir
    assert Path(settings_dir).is_relative_to(sys.prefix)  # the venv's, not the user's
    defaults = _notification_defaults(settings_dir)
    # "false" is "Never" in the schema's choices (the default "none" asks with a prompt).
    assert defaults["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False
    assert defaults["doNotDisturbMode"] is False  # other notifications are left alone


def test_bootstrap_writes_the_jupyterlab_overrides_even_when_the_venv_is_current(
    tmp_path: Path,
) -> None:
    """A .venv that was current before the overrides existed gets them on the next `make`."""
    repo = tmp_path
    (repo / "tools").mkdir()
    (repo / "requirements").mkdir()
    shutil.copy(ROOT / "tools" / "bootstrap.sh", repo / "tools" / "bootstrap.sh")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copy(ROOT / "requirements" / "lock.txt", repo / "requirements" / "lock.txt")
    (repo / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, repo / ".venv" / "bin" / "python")
    # The bootstrap hashes the version of $PYTHON, so name it: `PYTHON=python3.12 make test`
    # runs this test with another interpreter in that variable.
    version = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stamp = hashlib.sha256(
        (repo / "requirements" / "lock.txt").read_bytes()
        + (repo / "pyproject.toml").read_bytes()
        + version.encode()
    ).hexdigest()
    (repo / ".venv" / ".bootstrap-stamp").write_text(stamp + "\n")
    done = subprocess.run(
        ["bash", "tools/bootstrap.sh"],
        cwd=repo,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no re-sync
    settings_dir = repo / ".venv" / "share" / "jupyter" / "lab" / "settings"
    written = json.loads((settings_dir / "overrides.d" / "analysis.json").read_text("utf-8"))
    assert written == {NOTIFICATION: {"fetchNews": "false", "checkForUpdates": False}}
    assert _notification_defaults(str(settings_dir))["fetchNews"] == "false"
