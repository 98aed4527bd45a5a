"""Exports of the fact base: CSV per table, a Frictionless data package and an Excel workbook.

datapackage.json records the sha256 of every other file of the folder (see `datapackage`).
All three are byte-deterministic: rows in a fixed order, numbers written the same way every
time, the workbook's zip entries and document properties carry a fixed date instead of now.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from .mentions import format_value
from .tables import Table

# Fixed date for the workbook's document properties and zip entries (the zip format's epoch),
# so that two builds give the same bytes.
FIXED_TIMESTAMP = "1980-01-01T00:00:00Z"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
PACKAGE_NAME = "ccid-cluster-amoled-facts"


def cell(value: object) -> str:
    """A value as CSV text: empty for missing, integers without '.0', floats in shortest form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_value(value)
    return str(value)


def csv_text(table: Table, rows: Sequence[dict[str, object]]) -> str:
    """The table as CSV (UTF-8 text, LF line ends, header first, rows in the given order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in table.column_names])
    return out.getvalue()


def _field(column) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": column.name,
        "type": column.type,
        "description": column.description,
    }
    if column.unit:
        field["unit"] = column.unit
    constraints: dict[str, Any] = {}
    if not column.nullable:
        constraints["required"] = True
    if column.enum is not None:
        constraints["enum"] = list(column.enum)
    if column.minimum is not None:
        constraints["minimum"] = (
            int(column.minimum) if float(column.minimum).is_integer() else column.minimum
        )
    if column.maximum is not None:
        constraints["maximum"] = (
            int(column.maximum) if float(column.maximum).is_integer() else column.maximum
        )
    if column.pattern is not None:
        # Table Schema patterns match the whole value: drop the anchors the schema uses.
        constraints["pattern"] = re.sub(r"^\^|\$$", "", column.pattern)
    if constraints:
        field["constraints"] = constraints
    return field


def sha256_hash(data: bytes) -> str:
    """The Data Package `hash` of `data`: "sha256:" and the hex digest."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def datapackage(
    tables: Sequence[Table],
    counts: dict[str, int],
    sources: Sequence[dict[str, str]],
    description: str,
    files: Mapping[str, bytes],
    others: Mapping[str, tuple[str, bytes]] = {},  # noqa: B006 - read only
) -> str:
    """A Frictionless (Tabular) Data Package describing every exported table, as JSON text.

    Each table resource carries the `hash` ("sha256:<hex>") and `bytes` of its CSV in `files`
    (the spec's fields, which frictionless checks). The folder's other files (`others`: name ->
    (description, bytes): the corpus CSVs and the workbook) cannot be resources of a Tabular
    Data Package (every resource must be a table with a schema), so they are listed in the
    custom top-level property "files", each with path, description, hash and bytes in the same
    form. Only datapackage.json itself has no recorded hash.
    """
    resources = []
    for table in tables:
        data = files[f"{table.name}.csv"]
        resources.append(
            {
                "name": table.name,
                "path": f"{table.name}.csv",
                "profile": "tabular-data-resource",
                "title": table.title,
                "description": f"{table.description} Rows: {counts[table.name]}.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(data),
                "hash": sha256_hash(data),
                "schema": {
                    "fields": [_field(c) for c in table.columns],
                    "primaryKey": list(table.key),
                    "missingValues": [""],
                },
                "sources": list(sources),
            }
        )
    package = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "Facts of CCID Think Tank articles on cluster policy and the AMOLED industry",
        "description": description,
        "sources": list(sources),
        "resources": resources,
        "files": [
            {
                "path": name,
                "description": text,
                "bytes": len(data),
                "hash": sha256_hash(data),
            }
            for name, (text, data) in others.items()
        ],
    }
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


def workbook(
    tables: Sequence[Table],
    rows: dict[str, Sequence[dict[str, object]]],
    readme: Sequence[tuple[str, str]],
) -> bytes:
    """An Excel workbook: a README sheet, then one sheet per table; same bytes every time."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)  # streams rows: faster than building a cell grid
    bold = Font(bold=True)

    def header(ws, values: Sequence[str]) -> list:
        cells = []
        for value in values:
            c = WriteOnlyCell(ws, value=value)
            c.font = bold
            cells.append(c)
        return cells

    sheet = wb.create_sheet("README")
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 120
    for key, value in readme:
        sheet.append([*header(sheet, [key]), value])
    for table in tables:
        ws = wb.create_sheet(table.name[:31])
        ws.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            sample = [len(cell(r.get(column.name))) * 2 for r in rows[table.name][:50]]
            width = max([len(column.name), *sample])
            ws.column_dimensions[get_column_letter(index)].width = min(max(width, 8), 60)
        ws.append(header(ws, table.column_names))
        for row in rows[table.name]:
            ws.append([row.get(c) for c in table.column_names])
    buffer = io.BytesIO()
    wb.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an .xlsx with fixed entry dates and fixed created/modified properties."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + FIXED_TIMESTAMP.encode() + rb"\g<3>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content)
    return out.getvalue()
