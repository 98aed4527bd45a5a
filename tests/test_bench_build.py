"""bench/bench_build.py ends with one table of the measurements against issue 13's targets."""

from __future__ import annotations

import importlib.util

from analysis.paths import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "bench" / "bench_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_summary_table_gives_each_measure_its_target_verdict_and_the_load() -> None:
    bench = _bench()
    rows = [
        ("full build 60.0 s vs naive 800.0 s", "13.3x", ">= 12x", True),
        ("no-op build (median of 5)", "0.61 s", "<= 0.5 s", False),
    ]
    table = bench.summary_table(rows, "1.00 0.50 0.25", "2.00 1.00 0.50").splitlines()
    assert "load average 1.00 0.50 0.25 at start, 2.00 1.00 0.50 at end" in table[0]
    assert "13.3x" in table[2] and ">= 12x" in table[2]
    assert table[2].endswith("met") and table[3].endswith("MISSED")
    assert "0.61 s" in table[3] and "<= 0.5 s" in table[3]
    assert table[-1] == "some targets missed"
    assert len(bench._loadavg().split()) == 3


def test_the_naive_loop_is_scaled_per_report_not_by_a_plain_mean(tmp_path) -> None:
    """A sample of 16 holds 2 jobs of each 2-job report and 10 of the 62 profiles: each
    report's mean per job is multiplied by its own number of jobs, and the Word step is kept
    apart (the issue's loop makes HTML and PDF; the build makes Word too)."""
    from types import SimpleNamespace

    bench = _bench()

    def job(report: str) -> SimpleNamespace:
        return SimpleNamespace(report=SimpleNamespace(name=report))

    times = tmp_path / "times.tsv"
    times.write_text(
        "a.1\tlong\t0\t9\t10\n"  # 9 s, then 1 s of Word
        "a.2\tlong\t100\t111\t112\n"  # 11 s, 1 s
        "p.1\tprofile\t0\t2\t2.5\n"  # 2 s, 0.5 s
        "p.2\tprofile\t10\t14\t14.5\n",  # 4 s, 0.5 s
        encoding="utf-8",
    )
    jobs = [job("long")] * 2 + [job("profile")] * 10
    without, with_word, lines = bench.naive_totals(times, jobs)
    assert without == 2 * 10 + 10 * 3  # a plain mean (6.5 s) times 12 jobs would say 78
    assert with_word == 2 * 11 + 10 * 3.5
    assert any(line.split()[:3] == ["profile", "10", "2"] for line in lines)


def test_the_naive_loop_times_each_job_and_makes_word_files_where_the_build_does(
    tmp_path,
) -> None:
    from types import SimpleNamespace

    bench = _bench()
    notebook = tmp_path / "nb" / "report.ipynb"
    jobs = [
        SimpleNamespace(
            job_id=f"r.{lang}",
            params={"lang": lang},
            report=SimpleNamespace(name="r", notebook=notebook, kernel="analysis", formats=formats),
        )
        for lang, formats in (("zh", ["html", "pdf", "docx"]), ("en", ["html"]))
    ]
    script = bench.naive_script(jobs, tmp_path / "out", "/opt/pandoc")
    assert script.count("t0=$EPOCHREALTIME") == 2 and script.count(">> times.tsv") == 2
    assert script.count("/opt/pandoc ") == 1 and "r.zh.docx" in script
    assert script.count("/weasyprint ") == 1
    assert "/opt/pandoc" not in bench.naive_script(jobs, tmp_path / "out", None)
    # Never into the repository's reports/figures/ (the notebooks' default without it).
    assert f"export ANALYSIS_FIGURES_DIR={tmp_path / 'out' / 'figures'}\n" in script
