"""Spreadsheet import of staff, roles, assignments, leave and teams (CSV and XLSX).

Rota managers keep these in spreadsheets. A file is read into rows, each row is turned into
the same payload the REST API accepts (keys such as an email or a role code are resolved to
ids) and goes through :func:`services.records.create` or :func:`services.records.update`, so a
row is checked by exactly the rules that check a JSON request.

The whole import runs inside one savepoint: every row is tried, every bad row is reported by
its spreadsheet row number and column, and nothing is kept unless all rows are good. Records
are matched on stable keys (people by email, roles and teams by code, assignments by email,
role and start date, leave by email, kind and dates), so importing the same file twice
changes nothing and writes no audit rows.

A file is read within :class:`Limits`, each refusal naming its reason: rows counted as they
are scanned (blank ones too), at most :data:`MAX_COLUMNS` columns, cells of at most 1,000
characters parsed without backtracking patterns, a workbook's unpacked size, compression ratio
and XML shape checked from the zip before openpyxl opens it, and a wall-clock budget.

The column definitions below (:data:`SHEETS`) are the one source of truth for the importer,
the template files under ``sel_time/data/templates/`` and the API documentation;
``python -m sel_time.importer`` regenerates the templates.
"""
from __future__ import annotations

import csv
import io
import logging
import re
import time
import warnings
import xml.parsers.expat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from pydantic import BaseModel

from .errors import Conflict, FieldError, SelTimeError, ValidationError
from .extensions import db
from .models import (
    WEEKDAYS,
    AbsenceKind,
    CommitmentUnit,
    Department,
    Half,
    LeadershipRole,
    Organisation,
    Period,
    Person,
    Profession,
    RoleLevel,
    SessionKind,
    TeamKind,
)
from .services import records
from .services.audit import Actor, record

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
PROGRESS_EVERY = 500  # rows between progress reports
Progress = Callable[[str, float], None]
NOT_UTF8 = "file is not UTF-8 encoded: save it as CSV UTF-8"
FORMULA = "formulas are not allowed: paste the values instead"
TEMPLATE_DIR = Path(__file__).resolve().parent / "data" / "templates"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- column definitions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One spreadsheet column and how its cells become a field of the API payload.

    ``type`` is one of: text, email, code (this record's own key, stored lowercase), number,
    money, date, choice (one of ``choices``), ref (a key of another record, resolved to the id
    in ``field``), emails (a list of people), sessions (half-days of a working week) and slots
    (half-days a team may meet).
    """

    name: str
    type: str = "text"
    required: bool = False
    field: str | None = None  # API field filled; default: the column name
    choices: type[Enum] | None = None
    ref: str | None = None  # organisation, department, person or role
    example: Any = None
    help: str = ""

    @property
    def target(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Sheet:
    """One kind of record: its columns, stable key and the service entity it writes."""

    kind: str
    entity: str  # key of records.ENTITIES
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # column names identifying a record across imports
    aliases: tuple[str, ...] = ()  # other words for the kind in file and sheet names

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


_EMAIL = "amara.okafor@nhs.net"
_ROLE = "lambeth-nursing-lead"

SHEETS: dict[str, Sheet] = {s.kind: s for s in [  # in dependency order
    Sheet("roles", "roles", (
        Column("code", "code", True, example=_ROLE,
               help="stable key: lowercase letters, digits, - _ ."),
        Column("title", required=True, example="Lambeth borough lead for nursing"),
        Column("level", "choice", True, choices=RoleLevel, example="place"),
        Column("host_organisation", "ref", True, field="host_organisation_id",
               ref="organisation", example="GSTT", help="organisation code"),
        Column("commitment_amount", "number", True, example=1),
        Column("commitment_unit", "choice", True, choices=CommitmentUnit, example="pa",
               help="a programmed activity (pa) is 4 h, a gp_session 4 h 10 min, a session one "
                    "half-day"),
        Column("commitment_per", "choice", True, choices=Period, example="week"),
        Column("budget_code", example="SEL-ICB-LAM-01"),
        Column("annual_budget", "money", example=Decimal("12000.00"), help="GBP a year"),
        Column("description", example="Borough clinical and care professional lead"),
    ), key=("code",), aliases=("role", "leadership_roles")),
    Sheet("people", "people", (
        Column("email", "email", True, example=_EMAIL, help="the key that matches a person"),
        Column("name", required=True, example="Amara Okafor"),
        Column("staff_number", example="100234"),
        Column("profession", "choice", True, choices=Profession, example="nurse"),
        Column("specialty", example="Tissue viability"),
        Column("band", example="7", help="Agenda for Change band, e.g. 7 or 8a"),
        Column("staff_group", example="",
               help="rate-card key; leave blank to derive it from profession and band"),
        Column("organisation", "ref", True, field="organisation_id", ref="organisation",
               example="GSTT", help="organisation code"),
        Column("department", "ref", field="department_id", ref="department",
               example="gstt-community", help="department code (of the same organisation)"),
        Column("fte", "number", example=0.8, help="whole-time equivalent, default 1"),
        Column("backfill_rate", "money", example="",
               help="GBP an hour; leave blank to use the rate card"),
        Column("max_per_day", "number", example=1,
               help="most protected half-days in one day"),
        Column("max_per_week", "number", example=2,
               help="most protected half-days in one week"),
        Column("clinical_sessions", "sessions", field="pattern",
               example="Mon AM, Mon PM, Tue AM, Tue PM, Wed AM, Thu AM, Thu PM",
               help="half-days of clinical or care work; leave both session columns blank "
                    "for Monday to Friday, all clinical"),
        Column("non_clinical_sessions", "sessions", field="pattern", example="Wed PM",
               help="half-days worked that need no backfill"),
    ), key=("email",), aliases=("staff", "person", "persons", "leaders")),
    Sheet("assignments", "assignments", (
        Column("email", "ref", True, field="person_id", ref="person", example=_EMAIL),
        Column("role", "ref", True, field="role_id", ref="role", example=_ROLE,
               help="role code"),
        Column("start_date", "date", True, example=date(2026, 4, 1)),
        Column("end_date", "date", example=date(2027, 3, 31), help="blank: open-ended"),
        Column("share", "number", example=1, help="part of the role's commitment, default 1"),
        Column("commitment_amount", "number", example="",
               help="blank: the role's commitment"),
        Column("commitment_unit", "choice", choices=CommitmentUnit, example=""),
        Column("commitment_per", "choice", choices=Period, example=""),
    ), key=("email", "role", "start_date"), aliases=("assignment", "role_assignments")),
    Sheet("leave", "absences", (
        Column("email", "ref", True, field="person_id", ref="person", example=_EMAIL),
        Column("kind", "choice", True, choices=AbsenceKind, example="annual"),
        Column("start_date", "date", True, example=date(2026, 4, 7)),
        Column("start_half", "choice", choices=Half, example="AM", help="AM (default) or PM"),
        Column("end_date", "date", True, example=date(2026, 4, 10)),
        Column("end_half", "choice", choices=Half, example="PM", help="AM or PM (default)"),
        Column("note", example="Easter week"),
    ), key=("email", "kind", "start_date", "end_date"),
        aliases=("absence", "absences", "holiday", "holidays")),
    Sheet("teams", "teams", (
        Column("code", "code", True, example="lambeth-clt",
               help="stable key: lowercase letters, digits, - _ ."),
        Column("name", required=True, example="Lambeth clinical leadership team"),
        Column("kind", "choice", True, choices=TeamKind, example="leadership_team"),
        Column("sessions_amount", "number", example=1, help="meetings per period, default 1"),
        Column("sessions_per", "choice", True, choices=Period, example="month"),
        Column("quorum", "number", True, example=1),
        Column("allowed_slots", "slots", example="Wed/PM; Thu/AM",
               help="blank: any working half-day"),
        Column("location", example="Lambeth Town Hall"),
        Column("members", "emails", field="member_ids", example=_EMAIL,
               help="emails separated by ; or ,"),
        Column("funding_role", "ref", field="funding_role_id", ref="role", example="",
               help="code of the role that funds the team"),
        Column("budget_code", example="SEL-ICB-LAM-02"),
        Column("annual_budget", "money", example=Decimal("6000.00"), help="GBP a year"),
    ), key=("code",), aliases=("team",)),
]}
KINDS = tuple(SHEETS)
#: Columns read from a file: the widest sheet and a margin; a value further right is refused.
MAX_COLUMNS = max(len(s.columns) for s in SHEETS.values()) + 10
#: Which column of a sheet an API field's error belongs to.
_FIELD_COLUMN: dict[str, dict[str, str]] = {
    kind: {**{c.target: c.name for c in sheet.columns},
           **({"pattern": "clinical_sessions"} if kind == "people" else {})}
    for kind, sheet in SHEETS.items()
}


# -- the report --------------------------------------------------------------------------------

@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), kind by kind."""

    filename: str
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())

    def summary(self) -> str:
        """Lines for the command line: what happened to each kind of record."""
        verb = "Checked" if self.dry_run else "Imported"
        head = f"{verb} {self.filename}" + (" (dry run: nothing written)" if self.dry_run else "")
        if not self.counts:
            return f"{head}: no rows"
        lines = [f"{head}:"] + [
            f"  {kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts.items()
        ]
        if not self.dry_run and not self.changed:
            lines.append("  nothing changed")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "dry_run": self.dry_run,
                "counts": {k: vars(c).copy() for k, c in self.counts.items()}}


# -- reading files -----------------------------------------------------------------------------

class _Formula:
    """A cell holding a formula (never evaluated)."""


_FORMULA = _Formula()


class _ErrorCell:
    def __init__(self, code: str) -> None:
        self.code = code


@dataclass
class _Table:
    """One sheet or CSV file: its header and non-blank rows, numbered as the spreadsheet shows."""

    kind: str
    label: str  # sheet name prefixed to error fields; "" for a CSV file
    header: list[str | None]
    rows: list[tuple[int, list[Any]]]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _norm_name(text: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(text).strip().lower()).strip("_*")


def _kind_from_words(text: str) -> str | None:
    """The kind a file or sheet name speaks of (staff-2026.csv → people)."""
    words = set(re.split(r"[^a-z]+", text.lower()))
    joined = _norm_name(text)
    # Most specific first: "role-assignments" is assignments, "staff-leave" is leave.
    for kind in ("assignments", "leave", "teams", "people", "roles"):
        sheet = SHEETS[kind]
        names = {kind, *sheet.aliases}
        if joined in names or words & {n for n in names if "_" not in n}:
            return kind
    return None


def _kind_from_header(header: Iterable[str | None]) -> str | None:
    names = {h for h in header if h}
    fits = [(len(names & {c.name for c in s.columns}), kind) for kind, s in SHEETS.items()
            if set(s.required) <= names]
    fits.sort(reverse=True)
    if not fits or (len(fits) > 1 and fits[0][0] == fits[1][0]):
        return None
    return fits[0][1]


def _kind_named(name: str) -> str | None:
    """The kind a sheet (or the ``kind`` option) is named after: "People", "staff", "leave"."""
    norm = _norm_name(name)
    return next((k for k, s in SHEETS.items() if norm in {k, *s.aliases}), None)


def _header_names(cells: list[Any]) -> list[str | None]:
    return [None if _blank(c) or isinstance(c, (_Formula, _ErrorCell)) else _norm_name(c) or None
            for c in cells]


def _check_kind(kind: str | None) -> str | None:
    if kind is None or kind == "":
        return None
    found = _kind_named(kind)
    if found:
        return found
    raise ValidationError(f"kind must be one of {', '.join(KINDS)}",
                          [FieldError("kind", f'"{kind}" is not one of {", ".join(KINDS)}')])


@dataclass(frozen=True)
class Limits:
    """How much one import may read and for how long (config ``IMPORT_*``)."""

    rows: int = DEFAULT_MAX_ROWS  # rows scanned after the header, blank ones included
    cell_chars: int = DEFAULT_MAX_CELL_CHARS
    unpacked_bytes: int = DEFAULT_MAX_UNPACKED
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_config(cls, max_rows: int | None = None) -> Limits:
        config = current_app.config if has_app_context() else {}
        return cls(
            rows=int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS) if max_rows is None
                     else max_rows),
            cell_chars=int(config.get("IMPORT_MAX_CELL_CHARS", DEFAULT_MAX_CELL_CHARS)),
            unpacked_bytes=int(config.get("IMPORT_MAX_UNPACKED", DEFAULT_MAX_UNPACKED)),
            seconds=float(config.get("IMPORT_SECONDS", DEFAULT_SECONDS)))


class _RowCounter:
    """Counts the rows scanned (blank ones too) and keeps the import within its time budget."""

    def __init__(self, limit: int, limits: Limits | None = None) -> None:
        self.limit = limit
        self.limits = limits or Limits(rows=limit)
        self.n = 0
        self.started = time.monotonic()

    def add(self) -> None:
        self.n += 1
        if self.n > self.limit:
            raise ValidationError(
                f"The file has more than {self.limit} rows: split it into smaller files",
                [FieldError("file", f"more than {self.limit} rows")])
        self.check_time()

    def check_time(self, doing: str = "reading the file") -> None:
        seconds = self.limits.seconds
        if time.monotonic() - self.started > seconds:
            why = (f"stopped after the {seconds:g}-second import budget "
                   f"(SEL_TIME_IMPORT_SECONDS) while {doing}: split the file into smaller files")
            raise ValidationError(f"The import was {why}; nothing was imported",
                                  [FieldError("file", why)])


def _cell_name(i: int, header: list[str | None] | None, label: str) -> str:
    name = header[i] if header is not None and i < len(header) and header[i] else _letter(i)
    return f"{label}.{name}" if label else name


def _check_width(cells: list[Any], line: int, label: str) -> list[Any]:
    """The row's first MAX_COLUMNS cells; a value further right is refused."""
    if len(cells) <= MAX_COLUMNS:
        return cells
    beyond = next((i for i in range(MAX_COLUMNS, len(cells)) if not _blank(cells[i])), None)
    if beyond is not None:
        name = _cell_name(beyond, None, label)
        why = (f"a value beyond the last column read: an import reads at most {MAX_COLUMNS} "
               f"columns (A to {_column_letter(MAX_COLUMNS - 1)})")
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


def _read_csv(data: bytes, filename: str, kind: str | None, counter: _RowCounter) -> list[_Table]:
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
                header = _header_names(cells)
                continue
            counter.add()  # blank rows count: every row read takes time
            if all(_blank(c) for c in cells):
                continue
            rows.append((line, [_FORMULA if c.strip().startswith("=") else c for c in cells]))
    except csv.Error as exc:
        raise ValidationError("The CSV file cannot be read",
                              [FieldError("file", str(exc), row=reader.line_num)]) from None
    if not header or not any(header):
        raise ValidationError("The file is empty", [FieldError("file", "no header row", row=1)])
    kind = kind or _kind_from_words(Path(filename).stem) or _kind_from_header(header)
    if kind is None:
        raise ValidationError(
            "Cannot tell what the file holds: name it after its kind (people.csv, roles.csv, "
            "assignments.csv, leave.csv, teams.csv) or choose the kind",
            [FieldError("kind", f"one of {', '.join(KINDS)}")])
    return [_Table(kind, "", header, rows)]



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


def _read_xlsx(data: bytes, filename: str, kind: str | None, counter: _RowCounter) -> list[_Table]:
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
    named = {t: k for t, _ in sheets if (k := _kind_named(t)) is not None}
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
        guess = (_kind_from_words(Path(filename).stem)
                 or _kind_from_header(_header_names(rows[0][1])))
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
        tables.append(_Table(k, title, _header_names(rows[0][1]), rows[1:]))
    return tables


def _sheet_rows(ws: Any, counter: _RowCounter) -> list[tuple[int, list[Any]]]:
    title = ws.title
    rows_limit = counter.limit + 1  # the header and the data rows
    declared_rows, declared_cols = ws.max_row or 0, ws.max_column or 0
    # The used range a sheet declares (openpyxl pads every row to it): refused before reading.
    if declared_rows > rows_limit or declared_cols > MAX_COLUMNS:
        last = _column_letter(declared_cols - 1) if declared_cols else "A"
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
                value = _FORMULA
            elif cell.data_type == "e":
                value = _ErrorCell(str(value))
            values.append(value)
        values = _check_width(values, line, title)
        _check_lengths(values, line, header, title, counter.limits.cell_chars)
        if line > 1:
            counter.add()  # blank rows count: every row read takes time
        if all(_blank(v) for v in values):
            continue
        if header is None:
            header = _header_names(values)
        rows.append((line, values))
    return rows


def _read(data: bytes, filename: str, kind: str | None, max_rows: int,
          counter: _RowCounter | None = None) -> list[_Table]:
    suffix = Path(filename).suffix.lower()
    counter = counter or _RowCounter(max_rows)
    if suffix in {".xls", ".ods", ".numbers"}:
        raise ValidationError(f"{suffix} files cannot be read: save the file as .xlsx or CSV UTF-8",
                              [FieldError("file", f"{suffix} is not supported")])
    zipped = data[:4] == b"PK\x03\x04"
    if suffix in {".xlsx", ".xlsm"} or (suffix not in {".csv", ".txt"} and zipped):
        return _read_xlsx(data, filename, kind, counter)
    return _read_csv(data, filename, kind, counter)


# -- cells to payload values -------------------------------------------------------------------

class _CellError(Exception):
    pass


_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


def _half_day(token: str) -> tuple[str, str] | None:
    """("Mon", "AM") from "Mon AM", "monday pm", "Tue/AM", "Wed. PM"; None if not a half-day.

    Plain tokenising, linear in the length of the text: a regular expression with two
    optional runs of spaces here took 15 s on "mon" + 20,000 spaces + "x".
    """
    text = token.strip().lower()
    half = text[-2:]
    if half not in ("am", "pm"):
        return None
    rest = text[:-2].rstrip()
    if rest.endswith("/"):
        rest = rest[:-1].rstrip()
    rest = rest.removesuffix(".")
    day = rest[:3]
    if day not in _DAYS or not _LETTERS.issuperset(rest[3:]):
        return None
    return day.title(), half.upper()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time()
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise _CellError(f'"{value}" has a time: give a date only')
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        if m := _ISO_DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _UK_DATE.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        raise _CellError(f'"{text}" is not a real date') from None
    raise _CellError(f'"{text}" is not a date: write 2026-03-02 or 02/03/2026')


def _choice(value: Any, choices: type[Enum]) -> str:
    text = _text(value)
    wanted = re.sub(r"[\s\-]+", "_", text.lower())
    for member in choices:
        if wanted == str(member.value).lower():
            return str(member.value)
    return text  # the schema names the allowed values


def _number(value: Any, money: bool = False) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value) if money else value
    text = _text(value).replace(",", "")
    if money:
        text = text.removeprefix("£").strip()
        try:
            Decimal(text)
        except InvalidOperation:
            raise _CellError(f'"{_text(value)}" is not an amount in pounds') from None
    return text


def _sessions(value: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for token in filter(None, (t.strip() for t in re.split(r"[,;]", _text(value)))):
        found = _half_day(token)
        if found is None:
            raise _CellError(f'"{token}" is not a half-day like "Mon AM"')
        if found in out:
            raise _CellError(f"{found[0]} {found[1]} is listed twice")
        out.append(found)
    return out


def _slots(value: Any) -> list[str]:
    out = []
    for token in filter(None, (t.strip() for t in re.split(r"[,;]", _text(value)))):
        found = _half_day(token)
        out.append(f"{found[0]}/{found[1]}" if found else token)
    return out


# -- the import --------------------------------------------------------------------------------

_REF_MODELS: dict[str, tuple[type, Any, str]] = {
    "organisation": (Organisation, Organisation.code, "organisation with code"),
    "department": (Department, Department.code, "department with code"),
    "person": (Person, Person.email, "person with email"),
    "role": (LeadershipRole, LeadershipRole.code, "role with code"),
}
_REF_SOURCE = {"person": "people", "role": "roles"}  # refs the import itself may define


def _canon(value: Any) -> Any:
    """A comparable form of a parsed value: lists as sorted, numbers as Decimal."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return tuple(sorted((k, _canon(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(sorted((_canon(v) for v in value), key=repr))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return value


class _Importer:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.errors: list[tuple[int, int, int, FieldError]] = []  # (table, row, column) order
        self.bad_rows: set[tuple[int, int]] = set()
        self.failed: dict[tuple[str, str], tuple[str, int]] = {}  # (ref, key) → (sheet, row)
        self.ids: dict[tuple[str, str], int | None] = {}

    # errors
    def _error(self, t: int, table: _Table, line: int, column: str, message: str) -> None:
        sheet = SHEETS[table.kind]
        names = [c.name for c in sheet.columns]
        order = names.index(column) if column in names else len(names)
        name = f"{table.label}.{column}" if table.label else column
        self.errors.append((t, line, order, FieldError(name, message, row=line)))
        self.bad_rows.add((t, line))

    def check_headers(self, tables: list[_Table]) -> None:
        errors = []
        for table in tables:
            sheet = SHEETS[table.kind]
            known = {c.name for c in sheet.columns}
            prefix = f"{table.label}." if table.label else ""
            listed = ", ".join(c.name for c in sheet.columns)
            seen: set[str] = set()
            width = max([len(table.header), *(len(cells) for _, cells in table.rows)])
            for i in range(width):
                name = table.header[i] if i < len(table.header) else None
                if name is None:
                    if any(i < len(cells) and not _blank(cells[i]) for _, cells in table.rows):
                        errors.append(FieldError(f"{prefix}{_letter(i)}",
                                                 "values under a column with no header", row=1))
                elif name not in known:
                    errors.append(FieldError(f"{prefix}{name}",
                                             f"unknown column: the {table.kind} columns are {listed}",
                                             row=1))
                elif name in seen:
                    errors.append(FieldError(f"{prefix}{name}", "this column appears twice", row=1))
                seen.add(name)
            for name in sheet.required:
                if name not in seen:
                    errors.append(FieldError(f"{prefix}{name}", "this required column is missing",
                                             row=1))
        if errors:
            bad = sorted({e.field for e in errors})
            raise ValidationError("The columns are not right: " + ", ".join(bad), errors)

    # references
    def _resolve(self, ref: str, key: str) -> int | None:
        model, column, _ = _REF_MODELS[ref]
        # Emails are stored lowercase (and indexed); codes may not be (the demo's are upper).
        match = column == key if ref == "person" else sa.func.lower(column) == key
        if ref in _REF_SOURCE:  # may be created by this import: ask every time
            return db.session.scalar(sa.select(model.id).where(match))
        if (ref, key) not in self.ids:
            self.ids[(ref, key)] = db.session.scalar(sa.select(model.id).where(match))
        return self.ids[(ref, key)]

    def _missing(self, ref: str, key: str) -> str:
        where = self.failed.get((ref, key))
        if where:
            sheet, line = where
            return f"{key} is on row {line}{f' of {sheet}' if sheet else ''}, which has errors"
        return f"no {_REF_MODELS[ref][2]} {key}"

    # rows
    def _convert(self, sheet: Sheet, header: list[str | None], cells: list[Any]
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
        """The row as (payload, key values, column errors)."""
        payload: dict[str, Any] = {}
        keys: dict[str, Any] = {}
        errors: dict[str, str] = {}
        sessions: dict[str, list[tuple[str, str]]] = {}
        schema_fields = records.ENTITIES[sheet.entity].create_schema.model_fields
        for i, name in enumerate(header):
            if name is None:
                continue
            col = sheet.column(name)
            raw = cells[i] if i < len(cells) else None
            if isinstance(raw, _Formula):
                errors[name] = FORMULA
                continue
            if isinstance(raw, _ErrorCell):
                errors[name] = f"the cell holds the error {raw.code}"
                continue
            if _blank(raw):
                if col.required:
                    errors[name] = "is required"
                elif col.type == "sessions":
                    sessions[name] = []
                elif col.target and col.target != "staff_group":
                    info = schema_fields[col.target]
                    payload[col.target] = (None if info.is_required()
                                           else info.get_default(call_default_factory=True))
                continue
            try:
                value = self._cell(col, raw, keys)
            except _CellError as exc:
                errors[name] = str(exc)
                if col.ref:
                    payload[col.target] = 0  # a placeholder, so the schema checks the rest
                continue
            if col.type == "sessions":
                sessions[name] = value
            else:
                payload[col.target] = value
        if any(sessions.values()):
            clinical = sessions.get("clinical_sessions", [])
            other = sessions.get("non_clinical_sessions", [])
            both = [f"{d} {h}" for d, h in other if (d, h) in clinical]
            if both:
                errors["non_clinical_sessions"] = f"{', '.join(both)} also in clinical_sessions"
                other = [x for x in other if x not in clinical]
            pattern = [{"day": d, "half": h, "kind": k.value}
                       for k, items in ((SessionKind.CLINICAL, clinical),
                                        (SessionKind.NON_CLINICAL, other))
                       for d, h in items]
            payload["pattern"] = sorted(pattern,
                                        key=lambda p: (WEEKDAYS.index(p["day"]), p["half"]))
        return payload, keys, errors

    def _cell(self, col: Column, raw: Any, keys: dict[str, Any]) -> Any:
        if col.type in {"text", "email", "code"}:
            value: Any = _text(raw)
            if col.type != "text":
                value = value.lower()
        elif col.type == "number":
            value = _number(raw)
        elif col.type == "money":
            value = _number(raw, money=True)
        elif col.type == "date":
            value = _date(raw)
        elif col.type == "choice":
            assert col.choices is not None
            value = _choice(raw, col.choices)
        elif col.type == "sessions":
            return _sessions(raw)
        elif col.type == "slots":
            return _slots(raw)
        elif col.type == "ref":
            assert col.ref is not None
            key = _text(raw).lower()
            keys[col.name] = key
            ident = self._resolve(col.ref, key)
            if ident is None:
                raise _CellError(self._missing(col.ref, key))
            return ident
        elif col.type == "emails":
            emails = [e.lower() for e in re.split(r"[;,\s]+", _text(raw)) if e]
            ids, missing = [], []
            for email in emails:
                ident = self._resolve("person", email)
                if ident is None:
                    missing.append(self._missing("person", email))
                else:
                    ids.append(ident)
            if missing:
                raise _CellError("; ".join(missing))
            return ids
        else:  # pragma: no cover - a mistake in SHEETS
            raise AssertionError(col.type)
        keys[col.name] = value
        return value

    def run(self, tables: list[_Table], report: ImportReport, progress: Progress | None = None,
            budget: _RowCounter | None = None) -> None:
        total = sum(len(table.rows) for table in tables)
        done = 0
        for t, table in enumerate(sorted(tables, key=lambda x: KINDS.index(x.kind))):
            sheet = SHEETS[table.kind]
            entity = records.ENTITIES[sheet.entity]
            counts = report.counts.setdefault(table.kind, Counts())
            seen: dict[tuple[Any, ...], int] = {}
            for line, cells in table.rows:
                if budget is not None:
                    where = f" of {table.label}" if table.label else ""
                    budget.check_time(f"checking row {line}{where}")
                self._row(t, table, sheet, entity, line, cells, counts, seen)
                done += 1
                if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                    progress(f"{done:,} of {total:,} rows checked", done / total)

    def _row(self, t: int, table: _Table, sheet: Sheet, entity: records.Entity, line: int,
             cells: list[Any], counts: Counts, seen: dict[tuple[Any, ...], int]) -> None:
        payload, keys, errors = self._convert(sheet, table.header, cells)
        key = tuple(keys.get(k) for k in sheet.key)
        source_key = keys.get(sheet.key[0])
        if None not in key:
            if key in seen:
                shown = (f"{key[0]} is" if len(key) == 1
                         else f"the same {', '.join(sheet.key[:-1])} and {sheet.key[-1]} are")
                errors.setdefault(sheet.key[0], f"{shown} also on row {seen[key]}")
            else:
                seen[key] = line
        # The schema checks the whole row, so one pass reports every fault of it.
        try:
            parsed = records.parse(entity.create_schema, payload)
        except SelTimeError as exc:
            parsed = None
            for err in exc.errors:
                column = self._column(table.kind, err.field)
                if column not in errors:
                    errors[column] = err.message
        if not errors:
            assert parsed is not None
            errors = self._apply(sheet, entity, payload, parsed, counts, table.kind)
        for column, message in errors.items():
            self._error(t, table, line, column, message)
        if errors and sheet.kind in {"people", "roles"} and isinstance(source_key, str):
            ref = "person" if sheet.kind == "people" else "role"
            self.failed[(ref, source_key)] = (table.label, line)

    def _column(self, kind: str, api_field: str) -> str:
        head = api_field.split(".", 1)[0]
        return _FIELD_COLUMN[kind].get(head, SHEETS[kind].key[0] if head == "body" else head)

    def _existing(self, sheet: Sheet, entity: records.Entity, parsed: dict[str, Any]) -> Any:
        model = entity.model
        conditions = []
        for name in sheet.key:
            target = sheet.column(name).target
            attr = getattr(model, target)
            if sheet.column(name).type == "code":
                conditions.append(sa.func.lower(attr) == parsed[target].lower())
            else:
                conditions.append(attr == parsed[target])
        return db.session.scalar(sa.select(model).where(*conditions))

    def _apply(self, sheet: Sheet, entity: records.Entity, payload: dict[str, Any],
               parsed: dict[str, Any], counts: Counts, kind: str) -> dict[str, str]:
        """Create or update one good row in its own savepoint; its faults by column."""
        outcome = "unchanged"
        try:
            with db.session.begin_nested():
                obj = self._existing(sheet, entity, parsed)
                if obj is None:
                    records.create(entity, payload, self.actor)
                    outcome = "created"
                else:
                    change = self._changes(sheet, entity, obj, payload)
                    if change:
                        records.update(entity, obj, change, self.actor)
                        outcome = "updated"
        except SelTimeError as exc:
            return self._service_errors(kind, exc)
        except sa.exc.IntegrityError as exc:
            log.info("import row refused by the database: %s", exc.orig)
            return {sheet.key[0]: "clashes with a stored record"}
        setattr(counts, outcome, getattr(counts, outcome) + 1)
        return {}

    def _service_errors(self, kind: str, exc: SelTimeError) -> dict[str, str]:
        out: dict[str, str] = {}
        for err in exc.errors or [FieldError(SHEETS[kind].key[0], exc.detail)]:
            column = self._column(kind, err.field)
            message = exc.detail if isinstance(exc, Conflict) else err.message
            out.setdefault(column, message)
        return out

    def _changes(self, sheet: Sheet, entity: records.Entity, obj: Any,
                 payload: dict[str, Any]) -> dict[str, Any]:
        """The fields of ``payload`` whose values differ from the stored record."""
        old = entity.to_dict(obj)
        keys = {sheet.column(k).target for k in sheet.key}
        names = [f for f in payload if f in old and f not in keys]
        schema = entity.patch_schema
        try:
            new = records.parse(schema, {f: payload[f] for f in names}, partial=True)
            was = records.parse(schema, {f: old[f] for f in names}, partial=True)
        except SelTimeError:
            return {f: payload[f] for f in names}
        change = {f: payload[f] for f in names if _canon(new.get(f)) != _canon(was.get(f))}
        if change:  # a code stored in capitals (as the demo has them) is stored as the schema wants
            change.update({f: payload[f] for f in keys
                           if f in old and f in payload and old[f] != payload[f]})
        return change

    def raise_if_errors(self) -> None:
        if not self.errors:
            return
        n = len(self.bad_rows)
        detail = f"{n} row{'s have' if n != 1 else ' has'} errors; nothing was imported"
        raise ValidationError(detail, [e for *_, e in sorted(self.errors, key=lambda x: x[:3])])


def _column_letter(index: int) -> str:
    """The spreadsheet letters of a column (0 → A, 25 → Z, 26 → AA), past Excel's last too."""
    n, letters = index + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def _letter(index: int) -> str:
    return f"column {_column_letter(index)}"


def import_file(data: bytes, filename: str, actor: Actor, kind: str | None = None, *,
                dry_run: bool = False, max_rows: int | None = None,
                progress: Progress | None = None) -> ImportReport:
    """Import a CSV file (one kind) or an XLSX workbook (one sheet per kind): all rows or none.

    Raises :class:`ValidationError` listing every bad row by row number and column. With
    ``dry_run`` every row is checked exactly as in a real import and nothing is kept. A file
    beyond :class:`Limits` (rows scanned, columns, cell length, unpacked size, seconds) is
    refused with the reason, and nothing is written.
    ``progress(message, fraction)`` hears every ``PROGRESS_EVERY`` rows (a large file takes about
    3 ms a row). Flushes, never commits.
    """
    kind = _check_kind(kind)
    limits = Limits.from_config(max_rows)
    counter = _RowCounter(limits.rows, limits)
    tables = _read(data, filename or "upload", kind, limits.rows, counter)
    importer = _Importer(actor)
    importer.check_headers(tables)
    report = ImportReport(filename=filename, dry_run=dry_run)
    savepoint = db.session.begin_nested()
    try:
        importer.run(tables, report, progress, counter)
        importer.raise_if_errors()
        if dry_run:
            savepoint.rollback()
        else:
            if report.changed:
                record(actor, "import", "spreadsheet", None, None,
                       {"file": filename, **report.as_dict()["counts"]})
            savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    log.info("%s", report.summary().replace("\n", " "))
    return report


# -- templates ---------------------------------------------------------------------------------

def template_rows(kind: str) -> tuple[list[str], list[Any]]:
    """The header and the example row of a kind's template."""
    sheet = SHEETS[kind]
    return [c.name for c in sheet.columns], [c.example for c in sheet.columns]


def template_csv(kind: str) -> bytes:
    """A kind's template as CSV UTF-8 (with the byte-order mark Excel looks for)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header, example = template_rows(kind)
    writer.writerow(header)
    writer.writerow(["" if v is None else _text(v) for v in example])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(kinds: Iterable[str]) -> bytes:
    """A workbook with one sheet per kind: a header (required columns marked, hints as
    comments), one example row, and drop-down lists for the columns with fixed choices."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    fixed = datetime(2026, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "sel-time"
    for kind in kinds:
        ws = book.create_sheet(kind)
        header, example = template_rows(kind)
        ws.append(header)
        ws.append([None if v == "" else v for v in example])
        for i, col in enumerate(SHEETS[kind].columns, start=1):
            letter = get_column_letter(i)
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            if col.required:
                cell.fill = PatternFill("solid", fgColor="FFE699")
            hint = ("Required." if col.required else "Optional.") + (
                f" {col.help[:1].upper()}{col.help[1:]}." if col.help else "")
            if col.choices is not None:
                hint += " One of: " + ", ".join(str(m.value) for m in col.choices) + "."
                values = ",".join(str(m.value) for m in col.choices)
                rule = DataValidation(type="list", allow_blank=not col.required,
                                      formula1=f'"{values}"')
                rule.add(f"{letter}2:{letter}2000")
                ws.add_data_validation(rule)
            if col.type == "date":
                hint += " A date: 2026-03-02 or 02/03/2026."
                ws.cell(row=2, column=i).number_format = "yyyy-mm-dd"
            cell.comment = Comment(hint.strip(), "sel-time")
            shown = len(_text(col.example or ""))
            ws.column_dimensions[letter].width = max(12, len(col.name) + 2, min(40, shown + 2))
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_files() -> dict[str, bytes]:
    """Every template file by name: ``<kind>.csv``, ``<kind>.xlsx`` and ``workbook.xlsx``."""
    files: dict[str, bytes] = {}
    for kind in KINDS:
        files[f"{kind}.csv"] = template_csv(kind)
        files[f"{kind}.xlsx"] = template_xlsx([kind])
    files["workbook.xlsx"] = template_xlsx(KINDS)
    return files


def write_templates(directory: Path = TEMPLATE_DIR) -> list[Path]:
    """Write the template files (run ``python -m sel_time.importer`` after changing SHEETS)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in template_files().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_templates():
        print(path)
