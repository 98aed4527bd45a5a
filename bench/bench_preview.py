"""Edit-to-browser latency of `analysis preview` (issue 13: at most 1.5 s, median of 5).

A temporary copy of the project (reports.toml, notebooks/, data/, src/, the lock) is previewed
with its own code (PYTHONPATH points the server, its workers and kernels at the copy's src/),
so that editing the copy's narrative template changes nothing in the checkout. After the
first build, each round saves an edit of one heading of the English province-profile
templates (`[province_profile.summary] heading` in src/analysis/report/words/en.toml) and
polls the served page (every 20 ms) until it shows the new heading: the time from the save to
the changed page is what a reader waits for. A browser's reload after the Server-Sent Event
adds one page load (milliseconds on loopback) on top.

Run: `.venv/bin/python bench/bench_preview.py [--repeat 5] [--province 江苏] [--lang en]`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.5
HEADING = re.compile(r'(\[province_profile\.summary\]\nheading = ")([^"]*)(")')
COPIED = ("reports.toml", "notebooks", "data", "src", "requirements")


def copy_project(target: Path) -> Path:
    """The files a build reads, copied (caches left out)."""
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")
    target.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def wait_for(url: str, needle: str, timeout: float) -> float:
    """Seconds until the page at `url` contains `needle` (raises after `timeout`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if needle in fetch(url):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} did not show {needle!r} within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, metavar="N", help="edits timed")
    parser.add_argument("--province", default="江苏")
    parser.add_argument("--lang", default="en", choices=("en",))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per edit at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        project = copy_project(Path(tmp) / "project")
        words = project / "src" / "analysis" / "report" / "words" / f"{args.lang}.toml"
        env = {**os.environ, "PYTHONPATH": str(project / "src")}
        command = [
            str(Path(sys.executable).parent / "analysis"),
            "preview",
            "--reports-file",
            str(project / "reports.toml"),
            "--reports-dir",
            str(Path(tmp) / "reports"),
            "--only",
            "province_profile",
            "--param",
            f"province={args.province}",
            "--lang",
            args.lang,
        ]
        server = subprocess.Popen(
            command, cwd=project, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        try:
            assert server.stdout is not None
            url = None
            while url is None:
                line = server.stdout.readline()
                if not line:
                    raise RuntimeError("analysis preview ended before it served")
                found = re.search(r"http://127\.0\.0\.1:\d+/", line)
                url = found.group(0) if found else None
            while "watching" not in (line := server.stdout.readline()):
                if not line:
                    raise RuntimeError("analysis preview ended during its first build")
            html = f"{url}html/"
            listing = sorted((Path(tmp) / "reports" / "html").glob("*.html"))
            target = html + listing[0].name
            text = words.read_text(encoding="utf-8")
            original = HEADING.search(text)
            if original is None:
                raise RuntimeError(f"{words}: no [province_profile.summary] heading")
            times = []
            for index in range(args.repeat):
                marker = f"{original.group(2)} {'abcdefghij'[index % 10] * (index // 10 + 1)}"
                edited = HEADING.sub(lambda m, t=marker: m.group(1) + t + m.group(3), text, 1)
                words.write_text(edited, encoding="utf-8")
                seconds = wait_for(target, f">{marker}<", args.timeout)
                times.append(seconds)
                print(f"edit {index + 1}: {seconds:.2f} s", flush=True)
                time.sleep(0.3)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    median = statistics.median(times)
    verdict = "meets" if median <= TARGET_S else "misses"
    print(
        f"preview edit-to-page: median {median:.2f} s of {len(times)} "
        f"({', '.join(f'{t:.2f}' for t in times)}); target <= {TARGET_S} s: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
