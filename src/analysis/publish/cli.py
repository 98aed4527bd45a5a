"""The `analysis build` subcommand: its options, and the call into the engine."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from ..paths import ROOT
from .execute import CELL_TIMEOUT
from .progress import NORMAL, QUIET, VERBOSE


def add_reports_file_argument(parser: argparse.ArgumentParser) -> None:
    """`--reports-file`, shared by `analysis build` and `analysis verify`."""
    parser.add_argument(
        "--reports-file",
        type=Path,
        default=ROOT / "reports.toml",
        metavar="PATH",
        help="the list of reports (default: reports.toml at the repository root)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `analysis build` on its subparser."""
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="REPORT",
        help="build only this report (repeatable; names as in reports.toml)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="restrict a grid parameter to one value, or set another notebook parameter "
        "(repeatable; reports without that parameter are left out), e.g. --param province=江苏",
    )
    parser.add_argument(
        "--lang", metavar="LANG", help="only this language (same as --param lang=LANG)"
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="parallel workers (default and maximum: one per core and one more)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even up-to-date reports")
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=CELL_TIMEOUT,
        metavar="SECONDS",
        help=f"fail a job whose cell runs longer than this (default: {CELL_TIMEOUT})",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="when another build is writing into the reports folder, wait for it to finish",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="build a selection of more than 5000 jobs (refused without it)",
    )
    parser.add_argument(
        "--executor", choices=("local", "dask"), default="local", help="where jobs run"
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://host:8786"
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "--quiet", "-q", action="store_true", help="print failures and the summary only"
    )
    noise.add_argument("--verbose", "-v", action="store_true", help="a line per job with timings")
    add_reports_file_argument(parser)
    parser.add_argument(
        "--reports-dir",
        type=Path,
        metavar="PATH",
        help="where outputs go (default: reports/ next to the reports file)",
    )
    parser.add_argument(
        "--update-notebooks",
        action="store_true",
        help="execute the committed notebooks in place with their default parameters",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="with --update-notebooks: write nothing, exit 1 if a notebook is not current",
    )


def options_from_args(args: argparse.Namespace):
    """BuildOptions from parsed arguments (validation of names happens in the engine)."""
    from .engine import BuildOptions
    from .spec import UnknownSelectionError, parse_param_args

    params = parse_param_args(args.param)
    if args.lang:
        if "lang" in params and params["lang"] != args.lang:
            raise UnknownSelectionError("--lang and --param lang= disagree; give one of them.")
        params["lang"] = args.lang
    if args.jobs is not None and args.jobs < 1:
        raise UnknownSelectionError(f"--jobs {args.jobs}: give at least 1.")
    if args.cell_timeout < 1:
        raise UnknownSelectionError(f"--cell-timeout {args.cell_timeout}: give at least 1 s.")
    verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    return BuildOptions(
        reports_file=args.reports_file,
        reports_dir=args.reports_dir,
        only=tuple(args.only),
        params=params,
        jobs=args.jobs,
        force=args.force,
        executor=args.executor,
        scheduler=args.scheduler,
        verbosity=verbosity,
        cell_timeout=args.cell_timeout,
        wait=args.wait,
        yes=args.yes,
    )


def main(args: argparse.Namespace) -> int:
    """Run `analysis build` with parsed arguments; return the exit status."""
    from .engine import build, update_notebooks

    options = options_from_args(args)
    if args.check and not args.update_notebooks:
        from .spec import UnknownSelectionError

        raise UnknownSelectionError("--check goes with --update-notebooks.")
    if args.update_notebooks:
        return update_notebooks(options, check=args.check)
    return build(options).exit_code


def add_preview_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `analysis preview` on its subparser."""
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="N",
        help="the port on 127.0.0.1 to serve on (default: a free one, printed)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="REPORT",
        help="preview only this report (repeatable; names as in reports.toml)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="restrict a grid parameter to one value, e.g. --param province=江苏 (repeatable)",
    )
    parser.add_argument("--lang", metavar="LANG", help="only this language")
    parser.add_argument("--jobs", "-j", type=int, metavar="N", help="warm workers (default 1)")
    add_reports_file_argument(parser)
    parser.add_argument(
        "--reports-dir",
        type=Path,
        metavar="PATH",
        help="the folder to build into and serve (default: .preview/ next to the reports file, "
        "so that reports/ never mixes a previewed HTML page with an older PDF)",
    )
    parser.add_argument(
        "--formats",
        default="html",
        metavar="LIST",
        help="the formats to render, comma-separated (default: html, the fastest page after "
        "a save; html,pdf,docx for all a report declares)",
    )
    # What `options_from_args` reads that a preview does not let one choose.
    parser.set_defaults(
        force=False,
        executor="local",
        scheduler=None,
        quiet=True,
        verbose=False,
        wait=False,
        yes=False,
        cell_timeout=CELL_TIMEOUT,
    )


def preview_main(args: argparse.Namespace) -> int:
    """Run `analysis preview` with parsed arguments; return the exit status."""
    from .preview import PreviewOptions, preview
    from .spec import UnknownSelectionError

    if not 0 <= args.port <= 65535:
        raise UnknownSelectionError(f"--port {args.port}: give 0 (a free port) to 65535.")
    formats = parse_formats(args.formats)
    build = replace(options_from_args(args), formats=formats)
    return preview(PreviewOptions(build=build, port=args.port))


def parse_formats(text: str) -> tuple[str, ...]:
    """`--formats html,pdf`: known formats, HTML among them (the preview serves pages)."""
    from .spec import FORMATS, UnknownSelectionError

    formats = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise UnknownSelectionError(
            f"--formats {text}: unknown format {unknown[0]!r}; valid: {', '.join(FORMATS)}."
        )
    if "html" not in formats:
        raise UnknownSelectionError(
            f"--formats {text}: a preview serves HTML pages; include html (e.g. html,pdf)."
        )
    return formats
