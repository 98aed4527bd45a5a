"""The package surface: cheap import, lazy heavy libraries, the CLI's error handling."""

from __future__ import annotations

import subprocess
import sys

from analysis import cli
from analysis.errors import AnalysisError


def test_import_analysis_does_not_pull_heavy_libraries():
    code = (
        "import sys, analysis\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'geopandas', 'papermill', 'numpy') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_turns_analysis_errors_into_exit_2(monkeypatch, capsys):
    def boom(args):
        raise AnalysisError("data/raw/x.csv:3: something is wrong; run `make data`")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["corpus"].set_defaults(func=boom)
    assert cli.main(["corpus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data/raw/x.csv:3: something is wrong")


def test_cli_rejects_an_unknown_command(capsys):
    try:
        cli.main(["no-such-command"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("argparse accepted an unknown command")
    assert "invalid choice" in capsys.readouterr().err
