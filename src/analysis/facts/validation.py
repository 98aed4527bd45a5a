"""Schema validation of the fact tables, inline or in a helper process started early.

Every run validates every table with its pandera schema (`schemas.py`). Importing pandas and
pandera takes about 0.7 s and the first validation about 0.4 s, while the fact base's own work
(corpus, extraction, cross-checks, exports) needs neither. So on a machine with more than one
core `analysis facts` and `analysis data` start a helper process first: it imports pandas and
pandera and builds the schemas while this process repairs the corpus, extracts the tables and
renders the exports; it then validates the tables it is sent and answers with the failures, if
any. Nothing is written before that answer, and a failure raises the same
SchemaValidationError as inline validation. The tables travel as JSON over the helper's stdin
and stdout: no file, no port, nothing left behind.

`SchemaValidator(background=False)` (what library calls get by default) validates inline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import AnalysisError, SchemaValidationError
from .tables import ALL_TABLES

__all__ = ["SchemaValidationError", "SchemaValidator", "background_default", "validate_tables"]

Tables = Mapping[str, Sequence[Mapping[str, object]]]

# A helper is only worth it when the two processes can really run at the same time, and when
# this process has not already paid for pandera (a notebook, a test session).
_HELPER_ENV = "ANALYSIS_VALIDATION_HELPER"  # "0" forces inline validation, "1" the helper


def background_default() -> bool:
    """Whether a command-line run should validate in a helper process."""
    setting = os.environ.get(_HELPER_ENV)
    if setting in {"0", "1"}:
        return setting == "1"
    return (os.cpu_count() or 1) > 1 and "pandera" not in sys.modules


def validate_tables(tables: Tables) -> None:
    """Validate every table in `tables` with its schema (SchemaValidationError on failure)."""
    from .schemas import frame, validate

    for table in ALL_TABLES:
        if table.name in tables:
            validate(table.name, frame(table, list(tables[table.name])))


def _helper_command() -> list[str]:
    # Not `-m`: the module would run as __main__, a second copy with its own error class.
    code = f"import sys; from {__name__} import _serve; sys.exit(_serve())"
    return [sys.executable, "-c", code]


class SchemaValidator:
    """Validates the fact tables; with `background=True`, in a helper started at once.

    Use as a context manager (the helper is stopped on exit if it was never used), and call
    `validate` once, or `submit` and later `wait` to overlap other work with the validation.
    """

    def __init__(self, background: bool = False) -> None:
        self.background = background
        self._process: subprocess.Popen[bytes] | None = None
        self._pending: tuple[subprocess.Popen[bytes] | None, Any] | None = None
        if background:
            self._process = subprocess.Popen(
                _helper_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, _HELPER_ENV: "0"},
            )

    def __enter__(self) -> SchemaValidator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helper if it is still running (an earlier step failed)."""
        process, self._process = self._process, None
        if process is None and self._pending is not None and self._pending[0] is not None:
            process, (talk, _) = self._pending
            self._pending = None
            process.kill()
            talk.join()
            return
        if process is not None and process.poll() is None:
            process.kill()
            process.communicate()

    def submit(self, tables: Tables) -> None:
        """Start validating `tables` (in the helper, if any); `wait` gives the verdict."""
        if self._pending is not None:
            raise RuntimeError("SchemaValidator.submit called twice")
        process, self._process = self._process, None
        if process is None:
            self._pending = (None, dict(tables))
            return
        payload = json.dumps(tables, ensure_ascii=False, allow_nan=True).encode("utf-8")
        answer: list[tuple[bytes, bytes]] = []
        talk = threading.Thread(target=lambda: answer.append(process.communicate(payload)))
        talk.start()
        self._pending = (process, (talk, answer))

    def wait(self) -> None:
        """The verdict on the submitted tables: return, or raise SchemaValidationError."""
        if self._pending is None:
            raise RuntimeError("SchemaValidator.wait called before submit")
        process, work = self._pending
        self._pending = None
        if process is None:
            validate_tables(work)
            return
        talk, answer = work
        talk.join()
        out, err = answer[0] if answer else (b"", b"")
        try:
            verdict = json.loads(out.decode("utf-8"))
        except ValueError:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-15:]
            raise AnalysisError(
                f"the schema validation helper ({sys.executable}) exited with "
                f"status {process.returncode} without an answer:\n  "
                + "\n  ".join(tail or ["(no output)"])
                + f"\nSet {_HELPER_ENV}=0 to validate in this process instead."
            ) from None
        if verdict.get("error"):
            raise SchemaValidationError(verdict["error"])

    def validate(self, tables: Tables) -> None:
        """Validate `tables`; raise SchemaValidationError listing the failures."""
        self.submit(tables)
        self.wait()


# Optional packages that pandera probes for when it is imported (GeoDataFrame support, data
# synthesis) and that the fact tables never use; installed here for the maps and the tests.
# The helper hides them from pandera, which then takes its documented "not installed" path:
# about 0.25 s less start-up, on the path that decides how long `analysis data` takes.
_UNUSED_BY_SCHEMAS = ("geopandas", "hypothesis")


def _serve() -> int:
    """The helper: import pandera, read the tables from stdin, answer on stdout."""
    for name in _UNUSED_BY_SCHEMAS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # import raises ImportError
    from . import schemas  # the expensive part, done while the parent extracts the tables

    for table in ALL_TABLES:
        schemas.schema(table.name)
    tables = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    try:
        validate_tables(tables)
    except SchemaValidationError as exc:
        answer = {"error": str(exc)}
    else:
        answer = {"error": None}
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    return 0
