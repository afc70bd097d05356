"""The import itself: each row checked and written through the records service, all or none.

A file's rows are turned into the same payload the REST API accepts (keys such as an email or
a role code are resolved to ids) and go through :func:`services.records.create` or
:func:`services.records.update`, so a row is checked by exactly the rules that check a JSON
request.

The whole import runs inside one savepoint: every row is tried, every bad row is reported by
its spreadsheet row number and column, and nothing is kept unless all rows are good. Records
are matched on stable keys (people by email, roles and teams by code, assignments by email,
role and start date, leave by email, kind and dates), so importing the same file twice
changes nothing and writes no audit rows. Flushes, never commits.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from ..core.audit import Actor, record
from ..core.errors import Conflict, FieldError, SelTimeError, ValidationError
from ..core.extensions import db
from ..core.transaction import sandbox
from ..directory import records
from ..models import WEEKDAYS, Department, LeadershipRole, Organisation, Person, SessionKind
from .cells import (
    FORMULA,
    CellError,
    ErrorCell,
    Formula,
    blank,
    cell_choice,
    cell_date,
    cell_number,
    cell_sessions,
    cell_slots,
    cell_text,
    column_label,
)
from .columns import FIELD_COLUMN, KINDS, SHEETS, Column, Sheet, check_kind
from .reading import Limits, RowCounter, Table, read_file
from .report import Counts, ImportReport

log = logging.getLogger(__name__)

PROGRESS_EVERY = 500  # rows between progress reports
Progress = Callable[[str, float], None]


_REF_MODELS: dict[str, tuple[type[Any], Any, str]] = {  # model, key column, words
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


class Importer:
    """Checks and writes the rows of one import, collecting every fault by row and column."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.errors: list[tuple[int, int, int, FieldError]] = []  # (table, row, column) order
        self.bad_rows: set[tuple[int, int]] = set()
        self.failed: dict[tuple[str, str], tuple[str, int]] = {}  # (ref, key) → (sheet, row)
        self.ids: dict[tuple[str, str], int | None] = {}

    # errors
    def _error(self, t: int, table: Table, line: int, column: str, message: str) -> None:
        sheet = SHEETS[table.kind]
        names = [c.name for c in sheet.columns]
        order = names.index(column) if column in names else len(names)
        name = f"{table.label}.{column}" if table.label else column
        self.errors.append((t, line, order, FieldError(name, message, row=line)))
        self.bad_rows.add((t, line))

    def check_headers(self, tables: list[Table]) -> None:
        """Refuse unknown, repeated or missing columns before any row is read."""
        errors = []
        for table in tables:
            sheet = SHEETS[table.kind]
            known = {c.name for c in sheet.columns}
            prefix = f"{table.label}." if table.label else ""
            listed = ", ".join(c.name for c in sheet.columns)
            seen: set[str | None] = set()  # a column with no header is None
            width = max([len(table.header), *(len(cells) for _, cells in table.rows)])
            for i in range(width):
                name = table.header[i] if i < len(table.header) else None
                if name is None:
                    if any(i < len(cells) and not blank(cells[i]) for _, cells in table.rows):
                        errors.append(FieldError(f"{prefix}{column_label(i)}",
                                                 "values under a column with no header", row=1))
                elif name not in known:
                    errors.append(FieldError(
                        f"{prefix}{name}", f"unknown column: the {table.kind} columns are {listed}",
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
            if isinstance(raw, Formula):
                errors[name] = FORMULA
                continue
            if isinstance(raw, ErrorCell):
                errors[name] = f"the cell holds the error {raw.code}"
                continue
            if blank(raw):
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
            except CellError as exc:
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
            value: Any = cell_text(raw)
            if col.type != "text":
                value = value.lower()
        elif col.type == "number":
            value = cell_number(raw)
        elif col.type == "money":
            value = cell_number(raw, money=True)
        elif col.type == "date":
            value = cell_date(raw)
        elif col.type == "choice":
            assert col.choices is not None
            value = cell_choice(raw, col.choices)
        elif col.type == "sessions":
            return cell_sessions(raw)
        elif col.type == "slots":
            return cell_slots(raw)
        elif col.type == "ref":
            assert col.ref is not None
            key = cell_text(raw).lower()
            keys[col.name] = key
            ident = self._resolve(col.ref, key)
            if ident is None:
                raise CellError(self._missing(col.ref, key))
            return ident
        elif col.type == "emails":
            emails = [e.lower() for e in re.split(r"[;,\s]+", cell_text(raw)) if e]
            ids, missing = [], []
            for email in emails:
                ident = self._resolve("person", email)
                if ident is None:
                    missing.append(self._missing("person", email))
                else:
                    ids.append(ident)
            if missing:
                raise CellError("; ".join(missing))
            return ids
        else:  # pragma: no cover - a mistake in SHEETS
            raise AssertionError(col.type)
        keys[col.name] = value
        return value

    def run(self, tables: list[Table], report: ImportReport, progress: Progress | None = None,
            budget: RowCounter | None = None) -> None:
        """Every row of every table, kinds in dependency order, within the time budget."""
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
                self.check_row(t, table, sheet, entity, line, cells, counts, seen)
                done += 1
                if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                    progress(f"{done:,} of {total:,} rows checked", done / total)

    def check_row(self, t: int, table: Table, sheet: Sheet, entity: records.Entity, line: int,
                  cells: list[Any], counts: Counts, seen: dict[tuple[Any, ...], int]) -> None:
        """Check one row and, if it is good, create or update its record."""
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
        return FIELD_COLUMN[kind].get(head, SHEETS[kind].key[0] if head == "body" else head)

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
        """Raise one 422 listing every bad row, in sheet, row and column order."""
        if not self.errors:
            return
        n = len(self.bad_rows)
        detail = f"{n} row{'s have' if n != 1 else ' has'} errors; nothing was imported"
        raise ValidationError(detail, [e for *_, e in sorted(self.errors, key=lambda x: x[:3])])


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
    kind = check_kind(kind)
    limits = Limits.from_config(max_rows)
    counter = RowCounter(limits.rows, limits)
    tables = read_file(data, filename or "upload", kind, limits.rows, counter)
    importer = Importer(actor)
    importer.check_headers(tables)
    report = ImportReport(filename=filename, dry_run=dry_run)
    # a SAVEPOINT: a dry run, or a file with any row wrong, undoes only its own rows
    with sandbox() if dry_run else db.session.begin_nested():
        importer.run(tables, report, progress, counter)
        importer.raise_if_errors()
        if not dry_run and report.changed:
            record(actor, "import", "spreadsheet", None, None,
                   {"file": filename, **report.as_dict()["counts"]})
    log.info("%s", report.summary().replace("\n", " "))
    return report
