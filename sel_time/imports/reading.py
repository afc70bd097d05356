"""Reading CSV files and XLSX workbooks into tables of cells, within :class:`Limits`.

Each refusal names its reason: rows counted as they are scanned (blank ones too), at most
:data:`MAX_COLUMNS` columns, cells of at most 1,000 characters, a workbook's unpacked size,
compression ratio and XML shape checked from the zip before openpyxl opens it (an expat
pre-scan), the used range a sheet declares, and a wall-clock budget.
"""
from __future__ import annotations

import csv
import io
import logging
import time
import warnings
import xml.parsers.expat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

from ..core.errors import FieldError, SelTimeError, ValidationError
from .cells import FORMULA_CELL, ErrorCell, Formula, blank, column_label, column_letter
from .columns import KINDS, MAX_COLUMNS, kind_from_header, kind_from_words, kind_named, norm_name

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 20000
DEFAULT_MAX_CELL_CHARS = 1000
DEFAULT_MAX_UNPACKED = 50 * 1024 * 1024  # bytes a workbook may unpack to, all parts together
DEFAULT_SECONDS = 120.0  # 20,000 new rows take about 62 s; gunicorn's worker timeout is 180 s
MAX_RATIO = 100  # a workbook part compressed more than 100 to 1 is a zip bomb, not a spreadsheet
RATIO_FROM = 1024 * 1024  # ... once it unpacks to more than this
MAX_CHILDREN = 65_536  # elements openpyxl may hold at once under one element (styles: 64,000)
MAX_DEPTH = 100  # nesting of a workbook part's XML (a sheet nests about 6 deep)
_STREAMED = frozenset({"sheetData", "sst"})  # openpyxl reads these one child at a time
NOT_UTF8 = "file is not UTF-8 encoded: save it as CSV UTF-8"


@dataclass
class Table:
    """One sheet or CSV file: its header and non-blank rows, numbered as the spreadsheet shows."""

    kind: str
    label: str  # sheet name prefixed to error fields; "" for a CSV file
    header: list[str | None]
    rows: list[tuple[int, list[Any]]]


def header_names(cells: list[Any]) -> list[str | None]:
    """A header row's column names (None where a cell holds none)."""
    return [None if blank(c) or isinstance(c, (Formula, ErrorCell)) else norm_name(c) or None
            for c in cells]


@dataclass(frozen=True)
class Limits:
    """How much one import may read and for how long (config ``IMPORT_*``)."""

    rows: int = DEFAULT_MAX_ROWS  # rows scanned after the header, blank ones included
    cell_chars: int = DEFAULT_MAX_CELL_CHARS
    unpacked_bytes: int = DEFAULT_MAX_UNPACKED
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_config(cls, max_rows: int | None = None) -> Limits:
        """The limits the app is configured with (the defaults outside an app)."""
        config = current_app.config if has_app_context() else {}
        return cls(
            rows=int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS) if max_rows is None
                     else max_rows),
            cell_chars=int(config.get("IMPORT_MAX_CELL_CHARS", DEFAULT_MAX_CELL_CHARS)),
            unpacked_bytes=int(config.get("IMPORT_MAX_UNPACKED", DEFAULT_MAX_UNPACKED)),
            seconds=float(config.get("IMPORT_SECONDS", DEFAULT_SECONDS)))


class RowCounter:
    """Counts the rows scanned (blank ones too) and keeps the import within its time budget."""

    def __init__(self, limit: int, limits: Limits | None = None) -> None:
        self.limit = limit
        self.limits = limits or Limits(rows=limit)
        self.n = 0
        self.started = time.monotonic()

    def add(self) -> None:
        """Count one more row scanned; refuse the file past the limit or the budget."""
        self.n += 1
        if self.n > self.limit:
            raise ValidationError(
                f"The file has more than {self.limit} rows: split it into smaller files",
                [FieldError("file", f"more than {self.limit} rows")])
        self.check_time()

    def check_time(self, doing: str = "reading the file") -> None:
        """Stop the import, saying what it was doing, once its budget is spent."""
        seconds = self.limits.seconds
        if time.monotonic() - self.started > seconds:
            why = (f"stopped after the {seconds:g}-second import budget "
                   f"(SEL_TIME_IMPORT_SECONDS) while {doing}: split the file into smaller files")
            raise ValidationError(f"The import was {why}; nothing was imported",
                                  [FieldError("file", why)])


def _cell_name(i: int, header: list[str | None] | None, label: str) -> str:
    cell = header[i] if header is not None and i < len(header) else None
    name = cell or column_label(i)
    return f"{label}.{name}" if label else name


def _check_width(cells: list[Any], line: int, label: str) -> list[Any]:
    """The row's first MAX_COLUMNS cells; a value further right is refused."""
    if len(cells) <= MAX_COLUMNS:
        return cells
    beyond = next((i for i in range(MAX_COLUMNS, len(cells)) if not blank(cells[i])), None)
    if beyond is not None:
        name = _cell_name(beyond, None, label)
        why = (f"a value beyond the last column read: an import reads at most {MAX_COLUMNS} "
               f"columns (A to {column_letter(MAX_COLUMNS - 1)})")
        raise ValidationError(f"Row {line}, {name}: {why}", [FieldError(name, why, row=line)])
    return cells[:MAX_COLUMNS]


def _check_lengths(cells: list[Any], line: int, header: list[str | None] | None, label: str,
                   limit: int) -> None:
    for i, value in enumerate(cells):
        if isinstance(value, str) and len(value) > limit:
            name = _cell_name(i, header, label)
            why = (f"the cell holds {len(value):,} characters: an import reads at most "
                   f"{limit:,} (SEL_TIME_IMPORT_MAX_CELL_CHARS)")
            raise ValidationError(f"Row {line}, {name}: {why}", [FieldError(name, why, row=line)])


def _read_csv(data: bytes, filename: str, kind: str | None, counter: RowCounter) -> list[Table]:
    if b"\x00" in data[:4096]:  # UTF-16 or UTF-32, with or without a byte-order mark
        raise ValidationError(NOT_UTF8, [FieldError("file", NOT_UTF8)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(NOT_UTF8, [FieldError("file", NOT_UTF8)]) from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str | None] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for line, cells in enumerate(reader, start=1):
            cells = _check_width(cells, line, "")
            _check_lengths(cells, line, header, "", counter.limits.cell_chars)
            if header is None:
                header = header_names(cells)
                continue
            counter.add()  # blank rows count: every row read takes time
            if all(blank(c) for c in cells):
                continue
            rows.append((line, [FORMULA_CELL if c.strip().startswith("=") else c for c in cells]))
    except csv.Error as exc:
        raise ValidationError("The CSV file cannot be read",
                              [FieldError("file", str(exc), row=reader.line_num)]) from None
    if not header or not any(header):
        raise ValidationError("The file is empty", [FieldError("file", "no header row", row=1)])
    kind = kind or kind_from_words(Path(filename).stem) or kind_from_header(header)
    if kind is None:
        raise ValidationError(
            "Cannot tell what the file holds: name it after its kind (people.csv, roles.csv, "
            "assignments.csv, leave.csv, teams.csv) or choose the kind",
            [FieldError("kind", f"one of {', '.join(KINDS)}")])
    return [Table(kind, "", header, rows)]


def _check_unpacked(data: bytes, limits: Limits) -> None:
    """Refuse a workbook that would unpack to more than the limit, or a zip bomb, before any
    of it is unpacked (a zip file's directory states each part's size; zipfile never yields
    more than that)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception:  # not a zip file: openpyxl says the file is not a workbook
        return
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            why = (f"its part {part.filename[:100]} is compressed {ratio:,.0f} to 1, as a zip "
                   f"bomb is (a spreadsheet is less than {MAX_RATIO} to 1)")
            raise ValidationError(f"The workbook is refused: {why}", [FieldError("file", why)])
    if total > limits.unpacked_bytes:
        mb = 1024 * 1024
        why = (f"the workbook unpacks to {total / mb:,.1f} MB: an import reads at most "
               f"{limits.unpacked_bytes / mb:,.1f} MB (SEL_TIME_IMPORT_MAX_UNPACKED); split it "
               "into smaller files")
        raise ValidationError(f"The workbook is refused: {why}", [FieldError("file", why)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in parts:
            if part.filename.endswith((".xml", ".rels")):
                _check_structure(archive, part)


def _check_structure(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Refuse an XML part that openpyxl would hold whole in memory: a row of more cells than
    are read, any other element of more than MAX_CHILDREN children (outside the sheet's rows
    and the shared strings, which openpyxl streams), nesting deeper than MAX_DEPTH, or a DTD
    (entity bombs; defusedxml also stops them in openpyxl). Streamed through expat in flat
    memory; a part that is not XML is left to openpyxl to refuse."""
    name = part.filename[:100]
    counts: list[int] = []  # children seen so far of each open element
    tags: list[str] = []

    def refuse(why: str) -> None:
        raise ValidationError(f"The workbook is refused: its part {name} {why}",
                              [FieldError("file", f"{name} {why}")])

    def start(tag: str, _attrs: Any) -> None:
        if counts:
            counts[-1] += 1
            parent = tags[-1]
            if parent == "row" and counts[-1] > MAX_COLUMNS + 1:
                refuse(f"has a row of more than {MAX_COLUMNS + 1} cells: an import reads at "
                       f"most {MAX_COLUMNS} columns")
            if parent not in _STREAMED and counts[-1] > MAX_CHILDREN:
                refuse(f"has an element <{parent}> of more than {MAX_CHILDREN:,} parts")
        if len(counts) >= MAX_DEPTH:
            refuse(f"nests elements more than {MAX_DEPTH} deep")
        counts.append(0)
        tags.append(tag.rsplit("}", 1)[-1])

    def end(_tag: str) -> None:
        counts.pop()
        tags.pop()

    def doctype(*_args: Any) -> None:
        refuse("declares a DTD, which a spreadsheet never does")

    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        with archive.open(part) as stream:
            parser.ParseFile(stream)
    except SelTimeError:
        raise
    except Exception:  # not XML, encrypted, a bad CRC...: openpyxl refuses it if it reads it
        return


def _read_xlsx(data: bytes, filename: str, kind: str | None, counter: RowCounter) -> list[Table]:
    import openpyxl  # imported here: only uploads of workbooks need it

    _check_unpacked(data, counter.limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about Excel features it skips
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # a bad zip, openpyxl's InvalidFileException, missing parts...
        log.info("unreadable workbook %s: %s", filename, exc)
        raise ValidationError(
            "The file is not a valid XLSX workbook: save it as .xlsx or CSV UTF-8",
            [FieldError("file", "not a valid XLSX workbook")]) from None
    try:
        sheets = [(ws.title, _sheet_rows(ws, counter)) for ws in book.worksheets]
    except SelTimeError:
        raise
    except Exception as exc:  # a sheet's XML broken after its first lines, an entity (defusedxml)
        log.info("unreadable sheet in %s: %r", filename, exc)
        raise ValidationError(
            "The file is not a valid XLSX workbook: a sheet cannot be read; save it again as "
            ".xlsx or CSV UTF-8", [FieldError("file", "not a valid XLSX workbook")]) from None
    finally:
        book.close()
    sheets = [(title, rows) for title, rows in sheets if rows]  # ignore empty sheets
    if not sheets:
        raise ValidationError("The workbook is empty", [FieldError("file", "no rows")])
    named = {t: k for t, _ in sheets if (k := kind_named(t)) is not None}
    if kind is not None:
        chosen = [(t, r) for t, r in sheets if named.get(t) == kind]
        if not chosen and len(sheets) == 1:
            chosen = sheets
        if not chosen:
            raise ValidationError(f"The workbook has no sheet called {kind}",
                                  [FieldError("kind", f"no sheet called {kind}")])
        plan = [(kind, *chosen[0])]
    elif len(sheets) == 1 and sheets[0][0] not in named:
        title, rows = sheets[0]
        guess = (kind_from_words(Path(filename).stem)
                 or kind_from_header(header_names(rows[0][1])))
        if guess is None:
            raise ValidationError(
                f'Cannot tell what sheet "{title}" holds: name it after its kind '
                f"({', '.join(KINDS)}) or choose the kind",
                [FieldError("kind", f"one of {', '.join(KINDS)}")])
        plan = [(guess, title, rows)]
    else:
        unknown = [t for t, _ in sheets if t not in named]
        if unknown:
            raise ValidationError(
                "Sheets must be named after what they hold: " + ", ".join(KINDS),
                [FieldError(t, f"not one of {', '.join(KINDS)}: rename or remove the sheet")
                 for t in unknown])
        seen: dict[str, str] = {}
        errors = []
        for t, _ in sheets:
            if named[t] in seen:
                errors.append(FieldError(t, f'holds {named[t]} like sheet "{seen[named[t]]}"'))
            seen.setdefault(named[t], t)
        if errors:
            raise ValidationError("Two sheets hold the same kind of record", errors)
        plan = [(named[t], t, rows) for t, rows in sheets]
    tables = []
    for k, title, rows in plan:
        if rows[0][0] != 1:
            raise ValidationError(f'Row 1 of sheet "{title}" must hold the column names',
                                  [FieldError(title, "row 1 is blank", row=1)])
        tables.append(Table(k, title, header_names(rows[0][1]), rows[1:]))
    return tables


def _sheet_rows(ws: Any, counter: RowCounter) -> list[tuple[int, list[Any]]]:
    title = ws.title
    rows_limit = counter.limit + 1  # the header and the data rows
    declared_rows, declared_cols = ws.max_row or 0, ws.max_column or 0
    # The used range a sheet declares (openpyxl pads every row to it): refused before reading.
    if declared_rows > rows_limit or declared_cols > MAX_COLUMNS:
        last = column_letter(declared_cols - 1) if declared_cols else "A"
        size, allowed = ((f"{declared_rows:,} rows", f"{counter.limit} rows under the header")
                         if declared_rows > rows_limit
                         else (f"{declared_cols:,} columns", f"{MAX_COLUMNS} columns"))
        why = (f"the sheet's used range runs to {last}{declared_rows} ({size}): an import reads "
               f"at most {allowed}; delete the empty rows and columns around the data")
        raise ValidationError(f'Sheet "{title}" is refused: {why}', [FieldError(title, why)])
    max_col = min(declared_cols or MAX_COLUMNS + 1, MAX_COLUMNS + 1)
    rows: list[tuple[int, list[Any]]] = []
    header: list[str | None] | None = None
    for line, cells in enumerate(ws.iter_rows(max_row=rows_limit + 1, max_col=max_col), start=1):
        values = []
        for cell in cells:
            value = cell.value
            if cell.data_type == "f" or (isinstance(value, str) and value.strip().startswith("=")):
                value = FORMULA_CELL
            elif cell.data_type == "e":
                value = ErrorCell(str(value))
            values.append(value)
        values = _check_width(values, line, title)
        _check_lengths(values, line, header, title, counter.limits.cell_chars)
        if line > 1:
            counter.add()  # blank rows count: every row read takes time
        if all(blank(v) for v in values):
            continue
        if header is None:
            header = header_names(values)
        rows.append((line, values))
    return rows


def read_file(data: bytes, filename: str, kind: str | None, max_rows: int,
              counter: RowCounter | None = None) -> list[Table]:
    """The tables of a CSV file (one kind) or an XLSX workbook (a sheet per kind)."""
    suffix = Path(filename).suffix.lower()
    counter = counter or RowCounter(max_rows)
    if suffix in {".xls", ".ods", ".numbers"}:
        raise ValidationError(f"{suffix} files cannot be read: save the file as .xlsx or CSV UTF-8",
                              [FieldError("file", f"{suffix} is not supported")])
    zipped = data[:4] == b"PK\x03\x04"
    if suffix in {".xlsx", ".xlsm"} or (suffix not in {".csv", ".txt"} and zipped):
        return _read_xlsx(data, filename, kind, counter)
    return _read_csv(data, filename, kind, counter)

