"""The `analysis` command: a thin argument parser over library functions that tests call too."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AnalysisError
from .paths import RAW as RAW_DEFAULT
from .publish.cli import add_arguments as add_build_arguments
from .publish.cli import add_preview_arguments, add_reports_file_argument

if TYPE_CHECKING:
    from .facts.validation import SchemaValidator


def _out(args: argparse.Namespace) -> Path:
    from .paths import PROCESSED

    return Path(args.out or PROCESSED)


def _writing(args: argparse.Namespace, work: Callable[[Path], int]) -> int:
    """Run `work(out)` for a command that writes the folder `out` (data, corpus, facts).

    `out` is checked (a folder this process can replace) and cleaned of a killed run's staging
    folder before any work; SIGTERM and SIGINT then end the run with a message that says
    whether `out` was replaced (only in full, never in part: see analysis.io) and exit
    128 + the signal number.
    """
    from .io import Interrupted, interrupts_as_exceptions, prepare_output_dir
    from .paths import relative

    out = _out(args)
    prepare_output_dir(out)
    before = _published_count()
    try:
        with interrupts_as_exceptions():
            return work(out)
    except Interrupted as exc:
        if _published_count() > before:
            state = f"{relative(out)}/ had already been replaced in full"
        else:
            state = f"{relative(out)}/ left as it was"
        print(f"interrupted ({exc.name}); {state}", file=sys.stderr)
        return exc.exit_code


def _published_count() -> int:
    from .io import StagedFolder

    return StagedFolder.commits


def _cmd_corpus(args: argparse.Namespace) -> int:
    from .corpus.pipeline import run

    def work(out: Path) -> int:
        summary = run(strict=args.strict, raw_dir=args.raw_dir, out_dir=out)
        print(summary.render())
        return summary.exit_code

    return _writing(args, work)


def _validator() -> SchemaValidator:
    """Schema validation for a command-line run: in a helper process started now, so that
    importing pandas and pandera overlaps the corpus and extraction (see facts/validation.py)."""
    from .facts.validation import SchemaValidator, background_default

    return SchemaValidator(background=background_default())


def _cmd_facts(args: argparse.Namespace) -> int:
    from .facts.pipeline import run
    from .paths import PROCESSED

    def work(out: Path) -> int:
        with _validator() as validator:
            summary = run(
                strict=args.strict,
                processed_dir=PROCESSED,
                raw_dir=args.raw_dir,
                out_dir=out,
                validator=validator,
            )
        print(summary.render())
        return summary.exit_code

    return _writing(args, work)


def _cmd_data(args: argparse.Namespace) -> int:
    """Corpus and facts into one staged folder, swapped in only when both steps pass: the
    facts read the new corpus from the staging folder, never the old data/processed/."""
    from .corpus.pipeline import render as render_corpus
    from .facts.pipeline import run as run_facts
    from .io import StagedFolder

    def work(out: Path) -> int:
        with _validator() as validator:  # started first: it warms up while the corpus is built
            corpus, files = render_corpus(strict=args.strict, raw_dir=args.raw_dir)
            print(corpus.render())
            if corpus.exit_code:
                return corpus.exit_code
            with StagedFolder(out) as staging:
                for name, data in files.items():
                    staging.write(name, data)
                facts = run_facts(
                    strict=args.strict,
                    processed_dir=staging.path,
                    raw_dir=args.raw_dir,
                    out_dir=out,
                    validator=validator,
                    staging=staging,
                )
                if not facts.exit_code:
                    facts.written = staging.commit()
        print(facts.render())
        return facts.exit_code

    return _writing(args, work)


# The options `analysis add-source` needs, with the question asked at a terminal.
_ADD_SOURCE_REQUIRED = (
    ("title", "--title", "Article title (as printed in the file's `# ` heading): "),
    ("institute", "--institute", "Institute (as in the byline): "),
    ("authors", "--authors", "Authors, separated by spaces: "),
)


def _cmd_add_source(args: argparse.Namespace) -> int:
    """Fill in missing options by asking (only at a terminal), then onboard the file."""
    from .corpus.onboard import add_source

    missing = [opt for attr, opt, _ in _ADD_SOURCE_REQUIRED if not getattr(args, attr)]
    if missing and not sys.stdin.isatty():
        them = "them" if len(missing) > 1 else "it"
        print(
            f"error: missing option {', '.join(missing)} (give {them}, or run in a terminal "
            "to be asked)",
            file=sys.stderr,
        )
        return 2
    for attr, _opt, question in _ADD_SOURCE_REQUIRED:
        if not getattr(args, attr):
            answer = input(question).strip()
            setattr(args, attr, answer.split() if attr == "authors" else answer)
    authors = [a for part in args.authors for a in part.replace("，", ",").split(",")]
    report = add_source(
        args.file,
        title=args.title,
        institute=args.institute,
        authors=[a.strip() for a in authors if a.strip()],
        article_id=args.id,
        raw_dir=args.raw_dir,
        **{
            k: v
            for k in ("licence", "publisher", "venue", "date", "note")
            if (v := getattr(args, k))
        },
    )
    print(report.render())
    return 0


def _cmd_geometry(args: argparse.Namespace) -> int:
    from .geometry import build_geometry

    print(build_geometry(tolerance=args.tolerance))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from .publish.cli import main as build_main

    return build_main(args)


def _cmd_preview(args: argparse.Namespace) -> int:
    from .publish.cli import preview_main

    return preview_main(args)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .publish.progress import NORMAL, QUIET
    from .publish.verify import VerifyOptions, verify

    report = verify(
        VerifyOptions(
            reports_file=args.reports_file,
            reports_dir=args.reports_dir,
            sample=args.sample,
            jobs=args.jobs,
            keep=args.keep,
            verbosity=QUIET if args.quiet else NORMAL,
        )
    )
    print(report.render(), end="")
    return report.exit_code


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give at least 1")
    return value


def _add_verify_arguments(p: argparse.ArgumentParser) -> None:

    p.add_argument(
        "--sample",
        type=_at_least_one,
        metavar="N",
        help="rebuild only N of the declared jobs: the N job ids with the smallest sha256 of "
        "'analysis-verify:<job id>' (the same jobs on every machine and every run); the "
        "published files of every job are checked either way",
    )
    p.add_argument(
        "--reports-dir",
        type=Path,
        metavar="DIR",
        help="the published folder to verify (default: reports/ next to the reports file)",
    )
    add_reports_file_argument(p)
    p.add_argument(
        "--jobs", "-j", type=_at_least_one, metavar="N", help="parallel workers of the rebuild"
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary rebuild folder (its path is printed) to compare files by hand",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar for the rebuild")


def _add_out(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"write {what} into DIR instead of data/processed/ (to try a change of the "
        "reviewed files without touching the committed outputs)",
    )


def _add_raw_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--raw-dir",
        type=Path,
        default=RAW_DEFAULT,
        metavar="DIR",
        help="read the sources and the reviewed files from DIR instead of data/raw/ (with "
        "--out: try an onboarded article or a changed review in a copy of data/raw/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `analysis` command."""
    parser = argparse.ArgumentParser(prog="analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("corpus", help="parse, repair and audit the raw source into the corpus")
    p.add_argument("--strict", action="store_true", help="fail on proposals not yet reviewed")
    _add_out(p, "the corpus files")
    _add_raw_dir(p)
    p.set_defaults(func=_cmd_corpus)

    p = sub.add_parser("facts", help="extract, validate and export the fact tables")
    p.add_argument("--strict", action="store_true", help="fail on unclassified numeric mentions")
    _add_out(p, "the fact tables and exports (the corpus is still read from data/processed/)")
    _add_raw_dir(p)
    p.set_defaults(func=_cmd_facts)

    p = sub.add_parser("data", help="run corpus and facts end to end (make data)")
    p.add_argument("--strict", action="store_true", help="strict mode for both steps")
    _add_out(p, "the corpus and the fact base")
    _add_raw_dir(p)
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser(
        "add-source",
        help="onboard a new article: copy it into data/raw/, write its origin record, print "
        "what to review",
        description="Copy FILE (UTF-8 text with the article's `# title` and byline) into "
        "data/raw/ byte for byte, write its origin record data/raw/<stem>.source.toml (sha256, "
        "size, the article's title, institute and authors), and print the repair proposals and "
        "the numeric mentions to review before `make data`. Refuses to overwrite a different "
        "file and writes nothing on bad input (exit 2). Missing options are asked for at a "
        "terminal; otherwise their absence is an error.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the article's text file")
    p.add_argument("--title", help="the article's title, as in its `# ` heading")
    p.add_argument("--institute", help="the institute of its byline")
    p.add_argument("--authors", nargs="+", metavar="NAME", help="its authors, as in its byline")
    p.add_argument("--id", help="article id (default: from the file name; ASCII, digits, _)")
    p.add_argument("--licence", help="what is known of the licence (default: unknown)")
    p.add_argument("--publisher", help="publisher, if known")
    p.add_argument("--venue", help="venue (newspaper, journal), if known")
    p.add_argument("--date", help="publication date, if known")
    p.add_argument("--note", help="a note on the file (what it is, how it was received)")
    _add_raw_dir(p)
    p.set_defaults(func=_cmd_add_source)

    p = sub.add_parser("geometry", help="derive data/raw/china_provinces.geojson (needs [maps])")
    p.add_argument("--tolerance", type=float, default=None, help="simplification tolerance")
    p.set_defaults(func=_cmd_geometry)

    p = sub.add_parser("build", help="run the notebooks and build reports/ (make reports)")
    add_build_arguments(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser(
        "preview",
        help="serve the reports on 127.0.0.1 and rebuild what each edit touches (make preview)",
    )
    add_preview_arguments(p)
    p.set_defaults(func=_cmd_preview)

    p = sub.add_parser(
        "verify",
        help="rebuild the reports in a temporary folder and compare every output's sha256 "
        "with reports/manifest.json (make verify)",
        description="Rebuild every declared job (or --sample N of them) into a new temporary "
        "folder, removed afterwards, and compare the sha256 of each output and chart with "
        "reports/manifest.json; check that every published file is the one the manifest lists, "
        "that every job is current with its inputs, and data/processed/ against the hashes in "
        "its datapackage.json. Prints each file that differs, is missing or is extra. Exit "
        "status: 0 all match, 1 any difference, 2 no manifest (run `make reports` first).",
    )
    _add_verify_arguments(p)
    p.set_defaults(func=_cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `analysis` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
