"""The files reviewers and tools read around the code: CI workflows, pre-commit hooks, Makefile.

The workflows are validated offline against the GitHub Actions schema that check-jsonschema
ships (`--builtin-schema vendor.github-workflows`: a vendored copy, no remote `$ref`); the run
is given proxies that lead nowhere, so a schema fetched from the network would fail it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.paths import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the key `on` as True.
    value = workflow.get("on", workflow.get(True))
    return {value: None} if isinstance(value, str) else dict(value)


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **OFFLINE}
    env.update({k.lower(): v for k, v in OFFLINE.items()})
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


# --------------------------------------------------------------------------- workflows


@pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None,
    reason="check-jsonschema is not installed (it comes with the dev extra of the lock)",
)
def test_workflows_are_valid_github_actions_offline(tmp_path) -> None:
    assert WORKFLOWS, "no workflow in .github/workflows/"
    result = check_jsonschema(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a job without `runs-on` is refused.
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: make test\n")
    result = check_jsonschema(broken)
    assert result.returncode == 1 and "'runs-on' is a required property" in result.stdout


def test_ci_runs_make_test_on_linux_and_macos_with_311_and_312() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert {"push", "pull_request"} <= set(triggers(ci))
    (job,) = ci["jobs"].values()
    matrix = job["strategy"]["matrix"]
    assert sorted(matrix["os"]) == ["macos-latest", "ubuntu-latest"]
    assert sorted(matrix["python"]) == ["3.11", "3.12"]
    assert job["runs-on"] == "${{ matrix.os }}"
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    test = next(s for s in job["steps"] if s.get("run") == "make test")
    assert test["env"]["PYTHON"] == f"${{{{ steps.{setup['id']}.outputs.python-path }}}}"
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == ".venv"
    key = cache["with"]["key"]
    assert "hashFiles('requirements/lock*.txt', 'pyproject.toml')" in key
    assert f"steps.{setup['id']}.outputs.python-version" in key
    assert "runner.os" in key
    # The cache comes back before the test step, which builds or re-syncs .venv.
    assert job["steps"].index(cache) < job["steps"].index(test)


def test_a_scheduled_workflow_builds_then_verifies_the_reports() -> None:
    scheduled = [w for w in map(load, WORKFLOWS) if "schedule" in triggers(w)]
    assert scheduled, "no workflow runs on a schedule"
    (workflow,) = scheduled
    (cron,) = triggers(workflow)["schedule"]
    fields = cron["cron"].split()
    assert len(fields) == 5 and fields[4] != "*", "the schedule should be weekly"
    runs = [s.get("run") for s in steps(workflow) if s.get("run")]
    assert runs.index("make reports") < runs.index("make verify")


# --------------------------------------------------------------------------- pre-commit


# The hooks run the tools of the project's .venv; an environment made another way (conda)
# has none, and then only the configuration's shape is checked.
needs_venv = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(), reason="no .venv here (run make setup)"
)


def hooks() -> list[dict]:
    config = load(PRE_COMMIT)
    assert config["repos"], "no hooks"
    found = []
    for repo in config["repos"]:
        assert repo["repo"] == "local", f"{repo['repo']}: only local hooks (nothing to download)"
        found += repo["hooks"]
    return found


def test_pre_commit_hooks_are_local_and_use_the_project_venv() -> None:
    ids = set()
    for hook in hooks():
        ids.add(hook["id"])
        assert hook["language"] == "system", hook["id"]
        argv = shlex.split(hook["entry"])
        assert argv[0].startswith(".venv/bin/"), f"{hook['id']}: {argv[0]} is not from .venv"
        if (ROOT / ".venv").is_dir():
            assert (ROOT / argv[0]).exists(), f"{hook['id']}: {argv[0]} is not in .venv"
        for arg in argv[1:]:
            if arg.endswith(".py"):
                assert (ROOT / arg).is_file(), f"{hook['id']}: {arg} does not exist"
    assert {"ruff-check", "ruff-format", "notebook-structure"} <= ids


def run_hook(hook_id: str, *files: Path) -> subprocess.CompletedProcess:
    """Run a hook's entry on files the way pre-commit would (entry + file names, at the root)."""
    (hook,) = [h for h in hooks() if h["id"] == hook_id]
    argv = shlex.split(hook["entry"])
    argv[0] = str(ROOT / argv[0])
    names = [str(f) for f in files] if hook.get("pass_filenames", True) else []
    return subprocess.run(argv + names, cwd=ROOT, capture_output=True, text=True, timeout=120)


@needs_venv
def test_ruff_hooks_pass_clean_code_and_fail_bad_code(tmp_path) -> None:
    clean = ROOT / "tools" / "check_notebooks.py"
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nx=1\n", encoding="utf-8")  # unused import, unformatted
    for hook_id in ("ruff-check", "ruff-format"):
        assert run_hook(hook_id, clean).returncode == 0, hook_id
        assert run_hook(hook_id, bad).returncode == 1, hook_id


@needs_venv
def test_notebook_hook_checks_kernel_tag_and_cell_ids(tmp_path) -> None:
    committed = sorted((ROOT / "notebooks").glob("*.ipynb"))
    result = run_hook("notebook-structure", *committed)
    assert result.returncode == 0, result.stderr
    nb = json.loads(committed[0].read_text(encoding="utf-8"))
    copies = {}
    for change in ("kernel", "tag", "id"):
        edited = json.loads(json.dumps(nb))
        if change == "kernel":
            edited["metadata"]["kernelspec"]["name"] = "python3"
        elif change == "tag":
            edited["cells"][0]["metadata"]["tags"] = []
        else:
            edited["cells"][1]["id"] = "Renamed_Cell"  # not ^[a-z0-9][a-z0-9-]*$
        folder = tmp_path / change
        folder.mkdir()
        copies[change] = folder / committed[0].name
        copies[change].write_text(json.dumps(edited), encoding="utf-8")
    result = run_hook("notebook-structure", *copies.values())
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    for change, word in (("kernel", "kernelspec"), ("tag", "parameters"), ("id", "Renamed_Cell")):
        assert any(ln.startswith(str(copies[change])) and word in ln for ln in lines), change


# --------------------------------------------------------------------------- Makefile


def make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_allows_root_only_as_root() -> None:
    def lab_line(output: str) -> list[str]:
        (line,) = [ln for ln in output.splitlines() if "jupyter lab" in ln]
        return line.split()

    as_me = lab_line(make_dry_run("lab"))
    assert ("--allow-root" in as_me) == (os.getuid() == 0)
    assert "--allow-root" in lab_line(make_dry_run("lab", "LAB_UID=0"))
    assert "--allow-root" not in lab_line(make_dry_run("lab", "LAB_UID=1000"))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_verify_runs_analysis_verify() -> None:
    assert ".venv/bin/analysis verify" in make_dry_run("verify")
    assert ".venv/bin/analysis verify --sample 3" in make_dry_run("verify", "SAMPLE=3")
