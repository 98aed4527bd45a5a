"""The interpreter is recorded in the manifest, and nowhere that shapes an output's bytes."""

from __future__ import annotations

import platform

from analysis.paths import ROOT
from analysis.publish import cache, manifest
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import load_spec, select

REPORTS_FILE = ROOT / "reports.toml"


def test_job_key_does_not_depend_on_the_interpreter_version(monkeypatch) -> None:
    # The key is printed in every report ("input fingerprint"): with the Python version in it,
    # the HTML and PDF of a build on 3.12 or 3.13 differed from the committed 3.11 ones.
    job = make_jobs(select(load_spec(REPORTS_FILE), only=("cluster_policy",)))[0]
    keys = set()
    for version in ("3.11.7", "3.12.1", "3.13.0"):
        monkeypatch.setattr(platform, "python_version", lambda version=version: version)
        hasher = cache.InputHasher(
            ROOT, ROOT / "src" / "analysis", ROOT / "requirements" / "lock.txt"
        )
        keys.add(hasher.job_key(job, hasher.job_inputs(job)))
    assert len(keys) == 1


def test_the_manifest_environment_records_the_interpreter(monkeypatch) -> None:
    env_id, description = manifest.environment()
    assert description["python"] == platform.python_version()
    assert description["python_implementation"] == platform.python_implementation()
    assert description["packages"]["numpy"]
    # Another interpreter is another environment, with its own id.
    monkeypatch.setattr(platform, "python_implementation", lambda: "PyPy")
    other_id, other = manifest.environment()
    assert other["python_implementation"] == "PyPy" and other_id != env_id
