"""What the build prints: a progress bar (counts, elapsed, time left), a line per job in
verbose mode, failures as they happen, and one summary line at the end.

Quiet (`-q`) prints failures and the summary only; verbose (`-v`) adds a line per job with
the time spent executing and exporting. The bar goes to stderr and only on a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2


@dataclass
class Summary:
    """The counts of one build."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    stopped: str = ""  # why the build stopped early (a write into the reports folder failed)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every job succeeded, 1 when one failed or the build stopped, 130 when
        interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.failed or self.stopped else 0


class Progress:
    """Console reporting for one build."""

    def __init__(self, verbosity: int = NORMAL, stream: TextIO | None = None) -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self.summary = Summary()
        self._bar = None
        self._started = time.perf_counter()

    def begin(self, to_run: Sequence[str], skipped: Sequence[str], workers: int) -> None:
        """Announce the plan and open the bar."""
        self.summary.skipped = list(skipped)
        if self.verbosity >= VERBOSE:
            where = f", {workers} worker(s)" if workers else ""
            self._print(f"{len(to_run)} to build, {len(skipped)} up to date{where}")
        if to_run and self.verbosity >= NORMAL:
            from tqdm import tqdm

            # tqdm's monitor thread would make the executor start its workers with "spawn"
            # (a fresh interpreter each) instead of "fork", which is only safe single-threaded.
            tqdm.monitor_interval = 0
            self._bar = tqdm(
                total=len(to_run),
                unit="job",
                desc="reports",
                file=self.stream,
                disable=None,  # no bar when stderr is not a terminal
                dynamic_ncols=True,
                bar_format="{desc}: {n_fmt}/{total_fmt} {bar} [{elapsed}<{remaining}]{postfix}",
            )

    def job_done(self, job_id: str, ok: bool, error: str, timings: dict[str, float]) -> None:
        """Record one finished job."""
        if ok:
            self.summary.built.append(job_id)
        else:
            self.summary.failed.append((job_id, error))
        if self.verbosity >= VERBOSE:
            spent = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
            self._print(f"{'ok' if ok else 'FAILED'} {job_id}" + (f" ({spent})" if spent else ""))
        elif not ok:
            self._print(f"FAILED {job_id}: {error}")
        if self._bar is not None:
            self._bar.update(1)
            if self.summary.failed:
                self._bar.set_postfix_str(f"{len(self.summary.failed)} failed", refresh=False)

    def _print(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def end(self, reports_dir_label: str, logs_label: str | None) -> Summary:
        """Close the bar and print the summary line (and the list of failures)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        summary = self.summary
        summary.seconds = time.perf_counter() - self._started
        parts = [f"{len(summary.built)} built", f"{len(summary.skipped)} up to date"]
        if summary.failed:
            parts.append(f"{len(summary.failed)} failed")
        state = "interrupted" if summary.interrupted else "stopped" if summary.stopped else "done"
        line = f"analysis build {state}: {', '.join(parts)} in {summary.seconds:.1f} s"
        line += f" -> {reports_dir_label}"
        print(line, file=self.stream)
        for job_id, error in summary.failed:
            where = f" (log: {logs_label}/{job_id}.log)" if logs_label else ""
            print(f"  failed: {job_id}: {error}{where}", file=self.stream)
        if summary.stopped:
            print(f"  stopped: {summary.stopped}", file=self.stream)
        if summary.interrupted:
            print("  interrupted: run the same command again to resume.", file=self.stream)
        return summary
