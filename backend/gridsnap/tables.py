"""Tabular files an admin imports (the 12345 catalogue, the dispatch catalogue, address points):
CSV (UTF-8, with or without a BOM) or XLSX (the first sheet, read by openpyxl), the first row
naming the columns. Each row comes with its line in the file, so that a problem is reported as
line, field and code, and a file with any problem is imported not at all."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

XLSX_MAGIC = b"PK\x03\x04"
# what no cell may hold: C0 controls but tab, line feed and carriage return (PostgreSQL refuses
# NUL in text)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ROWS = 200_000


@dataclass(frozen=True)
class RowError:
    """One problem of an imported file: the line (1 = the header), the column, a stable code."""

    line: int
    field: str
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "code": self.code,
                "message": self.message}


class ImportRejected(Exception):
    """A file not imported, with every problem found in it."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: (e.line, e.field, e.code))
        super().__init__(f"{len(self.errors)} problem(s); nothing was imported")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(data: bytes) -> Iterable[list[str]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(0, "file", "import.not_utf8",
                                       f"A CSV file must be UTF-8: {exc}")]) from None
    for row in csv.reader(io.StringIO(content, newline="")):
        yield [v.strip() for v in row]


def read_rows(data: bytes, columns: dict[str, tuple[str, ...]], *,
              required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV or XLSX file as (line, {column: text}), blank rows left out.

    `columns` names each column and the headers that mean it (English or Chinese, any case):
    {"code": ("code", "编码")}. Raises ImportRejected for an unreadable file, a missing required
    column or an unknown one (line 1), or more than MAX_ROWS rows."""
    try:
        raw = list(_xlsx_rows(data) if data[:4] == XLSX_MAGIC else _csv_rows(data))
    except (csv.Error, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError,
            OSError) as exc:
        raise ImportRejected([RowError(0, "file", "import.unreadable",
                                       f"The file cannot be read: {exc}")]) from None
    rows = iter(raw)
    header = next(rows, None)
    if header is None:
        raise ImportRejected([RowError(1, "file", "import.empty", "The file is empty.")])
    aliases = {alias.lower(): name for name, names in columns.items()
               for alias in (name, *names)}
    errors, index = [], {}
    for i, h in enumerate(header):
        if not h:
            continue
        name = aliases.get(h.lower())
        if name is None:
            errors.append(RowError(1, h, "import.unknown_column",
                                   f"Unknown column {h!r}; known: {', '.join(columns)}."))
        elif name in index:
            errors.append(RowError(1, h, "import.duplicate_column", f"Column {h!r} twice."))
        else:
            index[name] = i
    errors += [RowError(1, name, "import.missing_column", f"Column {name!r} is required.")
               for name in required if name not in index]
    if errors:
        raise ImportRejected(errors)
    out = []
    for line, values in enumerate(rows, start=2):
        if not any(values):
            continue
        if len(out) >= MAX_ROWS:
            raise ImportRejected([RowError(line, "file", "import.too_many_rows",
                                           f"At most {MAX_ROWS} rows in one file.")])
        row = {name: values[i] if i < len(values) else "" for name, i in index.items()}
        errors += [RowError(line, name, "import.bad_text",
                            "Control characters (NUL and the like) are not text.")
                   for name, v in row.items() if _CONTROL.search(v)]
        out.append((line, row))
    if errors:
        raise ImportRejected(errors)
    return out
