"""`reports/manifest.json`: for every output, what it was built from. No timestamps.

Per job: report, notebook, parameters, status (and the error of a failed job), the cache key,
whether it is up to date with the current inputs, the sha256 of each input, the sha256 and
size of each output (`outputs`: notebook, HTML, PDF) and of each chart file the job saved
(`figures`: `figures/<name>` -> sha256 and size; empty for a failed job, whose charts are not
kept, and for a job that saved none), the git commit it was built at (and whether the tree
had uncommitted changes) and the id of its environment. `environments` maps each id to the
interpreter (implementation and version) and every installed distribution's version, read from
the `*.dist-info` folder names, which costs no imports. The interpreter is recorded there only,
not in the cache key nor in any output: those are the same on every supported Python.
"""

from __future__ import annotations

import json
import platform
import re
import site
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import ENGINE_VERSION
from .cache import bytes_sha256, canonical_json
from .jobs import STATE_DIR

_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+?)\.dist-info$")


def installed_packages(paths: Iterable[str] | None = None) -> dict[str, str]:
    """Distribution name -> version for every `*.dist-info` on the import path."""
    if paths is None:
        paths = list(dict.fromkeys([*site.getsitepackages(), *sys.path]))
    found: dict[str, str] = {}
    for entry in paths:
        folder = Path(entry)
        if not folder.is_dir():
            continue
        try:
            names = [p.name for p in folder.iterdir() if p.name.endswith(".dist-info")]
        except OSError:
            continue
        for name in names:
            match = _DIST_INFO.match(name)
            if match:
                key = match["name"].lower().replace("_", "-").replace(".", "-")
                found.setdefault(key, match["version"])
    return dict(sorted(found.items()))


def environment() -> tuple[str, dict[str, Any]]:
    """(id, description) of the running environment: the interpreter and the packages.

    The interpreter (implementation, e.g. CPython, and its full version) is recorded here, for
    provenance, and nowhere in the outputs themselves: the committed notebooks and the reports
    are the same bytes on every supported Python.
    """
    description = {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": installed_packages(),
    }
    return bytes_sha256(canonical_json(description).encode())[:16], description


def load_environment(reports_dir: Path, env_id: str) -> dict[str, Any] | None:
    """The saved description of an environment, or None."""
    try:
        return json.loads((reports_dir / STATE_DIR / f"env-{env_id}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def render(
    records: Mapping[str, dict[str, Any]],
    current_keys: Mapping[str, str],
    declared: set[str],
    reports_dir: Path,
) -> str:
    """The manifest text for the given job records (job id -> record)."""
    jobs: dict[str, Any] = {}
    env_ids: set[str] = set()
    for job_id in sorted(records):
        record = dict(records[job_id])
        record["declared"] = job_id in declared
        record["up_to_date"] = record.get("status") == "ok" and current_keys.get(
            job_id
        ) == record.get("key")
        if record.get("environment"):
            env_ids.add(record["environment"])
        jobs[job_id] = record
    environments = {}
    for env_id in sorted(env_ids):
        environments[env_id] = load_environment(reports_dir, env_id)
    document = {
        "engine": ENGINE_VERSION,
        "about": (
            "Every report output with the sha256 of its inputs, its parameters, the git commit "
            "and the environment it was built with. Produced by `analysis build`."
        ),
        "environments": environments,
        "jobs": jobs,
    }
    from .site import manifest_section

    # The methodology notes and the data copies beside the reports (`site.write_site`).
    document["site"] = manifest_section(reports_dir)
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
