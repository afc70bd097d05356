"""A leader's own data (a subject access request): every row held about them, found by walking
the data model rather than by a list that a new table could escape.

Rows about a person are: their person and user records; every row of any table with a foreign
key to either (leave, working pattern, preferences, role holdings, sessions, attendance records,
team memberships, feed links, API tokens, requests, ...); every row with a foreign key to one of
their role holdings (plan sessions and shortfalls of those holdings); the published sessions they
attend; and the audit entries about any of those rows, by them, or naming their account.
Secrets (password, token and throttle hashes) are never exported, nor the solver documents and
rendered feeds that hold everyone else's data too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ..core.clock import now_utc
from ..core.errors import NotFound
from ..core.extensions import db
from ..models import Person, User

SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "key_hash"})
# Columns holding other people's data as well (a plan's whole problem and solution, a rendered
# feed, a what-if's result): named, not exported.
SHARED_COLUMNS = frozenset({"problem", "solution", "body", "result", "request"})
# Tables whose rows about the person are owned by them, so rows pointing at those are theirs too.
OWNED_PARENTS = ("person", "app_user", "role_assignment")
# How the audit trail names the entity of each table (records.ENTITIES and the other services).
AUDIT_ENTITIES: dict[str, tuple[str, ...]] = {
    "person": ("people", "person"),
    "app_user": ("users", "user"),
    "absence": ("absences", "absence"),
    "avoid_preference": ("preferences", "preference"),
    "role_assignment": ("assignments", "assignment"),
    "attendance": ("attendance", "attendances"),
    "feed_token": ("feed_token",),
    "api_token": ("api_token",),
}


@dataclass
class SubjectData:
    """Everything held about one person, table by table (rows as JSON-safe dicts)."""

    person_id: int | None
    user_ids: list[int]
    generated_at: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def keys(self, table: str) -> set[tuple[Any, ...]]:
        """The primary keys of the rows of ``table`` in the export."""
        pk = [c.name for c in db.metadata.tables[table].primary_key.columns]
        return {tuple(row[c] for c in pk) for row in self.tables.get(table, [])}

    def as_json(self) -> dict[str, Any]:
        return {
            "format": "sel-time/subject-access@1",
            "generated_at": self.generated_at.isoformat(),
            "person_id": self.person_id,
            "user_ids": self.user_ids,
            "about": ABOUT,
            "withheld_columns": sorted(SECRET_COLUMNS | SHARED_COLUMNS),
            "tables": self.tables,
        }


ABOUT = (
    "Everything sel-time holds about you: your account, your person record, the roles you hold, "
    "your protected sessions and whether they were taken, your leave and working pattern, your "
    "team memberships, calendar links and API tokens (never their secrets), any requests you "
    "made, and the audit trail of changes to these records. Each table lists its rows with "
    "every column."
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _fk_columns(table: sa.Table, parent: str) -> list[sa.Column[Any]]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table.name == parent]


class _Collector:
    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def add(self, table: sa.Table, where: sa.ColumnElement[bool]) -> None:
        columns = [c for c in table.columns if c.name not in SECRET_COLUMNS | SHARED_COLUMNS]
        pk = [c.name for c in table.primary_key.columns]
        found = self.rows.setdefault(table.name, {})
        for row in db.session.execute(sa.select(*columns).where(where)).mappings():
            data = {k: _jsonable(v) for k, v in row.items()}
            found[tuple(data[c] for c in pk)] = data

    def ids(self, table: str) -> list[Any]:
        return [key[0] for key in self.rows.get(table, {})]


def subject_data(person_id: int | None = None, user_id: int | None = None) -> SubjectData:
    """Everything held about the person ``person_id`` and/or the user ``user_id`` (a user linked
    to the person, or sharing their e-mail address, is included)."""
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person_id is not None and person is None:
        raise NotFound(f"No person {person_id}")
    user = db.session.get(User, user_id) if user_id is not None else None
    if user_id is not None and user is None:
        raise NotFound(f"No user {user_id}")
    if person is None and user is not None and user.person_id is not None:
        person = db.session.get(Person, user.person_id)
    users = set()
    if user is not None:
        users.add(user.id)
    if person is not None:
        users |= set(db.session.scalars(sa.select(User.id).where(sa.or_(
            User.person_id == person.id, sa.func.lower(User.email) == person.email.lower()))))
    tables = db.metadata.tables
    out = _Collector()
    seeds: dict[str, list[Any]] = {"person": [person.id] if person else [],
                                   "app_user": sorted(users)}
    for name, ids in seeds.items():
        if ids:
            out.add(tables[name], tables[name].c.id.in_(ids))
    for parent in OWNED_PARENTS:
        ids = seeds.get(parent) or out.ids(parent)
        if not ids:
            continue
        for table in db.metadata.sorted_tables:
            for column in _fk_columns(table, parent):
                out.add(table, column.in_(ids))
    attended = {row["session_id"] for row in out.rows.get("attendance", {}).values()}
    if attended:
        out.add(tables["protected_session"], tables["protected_session"].c.id.in_(attended))
    _audit_entries(out, person, sorted(users))
    return SubjectData(
        person_id=person.id if person else None,
        user_ids=sorted(users),
        generated_at=now_utc(),
        tables={name: [rows[k] for k in sorted(rows, key=_sort_key)]
                for name, rows in sorted(out.rows.items()) if rows},
    )


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(f"{v:>20}" if isinstance(v, int) else str(v) for v in key)


def _audit_entries(out: _Collector, person: Person | None, users: list[int]) -> None:
    audit = db.metadata.tables["audit_event"]
    about: list[sa.ColumnElement[bool]] = []
    for table, entities in AUDIT_ENTITIES.items():
        ids = [str(i) for i in out.ids(table)]
        if ids:
            about.append(sa.and_(audit.c.entity.in_(entities), audit.c.entity_id.in_(ids)))
    if users:
        about.append(audit.c.user_id.in_(users))
    emails = {e.lower() for e in _emails(person, users)}
    if emails:
        about.append(sa.func.lower(audit.c.actor).in_(emails))
    if about:
        out.add(audit, sa.or_(*about))


def _emails(person: Person | None, users: Iterable[int]) -> list[str]:
    found = [person.email] if person is not None else []
    found += list(db.session.scalars(sa.select(User.email).where(User.id.in_(list(users)))))
    return found


def to_json_bytes(data: SubjectData) -> bytes:
    return json.dumps(data.as_json(), indent=2, ensure_ascii=False).encode("utf-8")


def to_xlsx_bytes(data: SubjectData) -> bytes:
    """One sheet about the export, then one sheet per table (a header row, then its rows)."""
    from openpyxl import Workbook

    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "About"
    about.append(["sel-time: everything held about you"])
    about.append(["Generated", data.generated_at.isoformat()])
    about.append([ABOUT])
    about.append(["Withheld columns", ", ".join(sorted(SECRET_COLUMNS | SHARED_COLUMNS))])
    about.append([])
    about.append(["Table", "Rows"])
    for name, rows in data.tables.items():
        about.append([name, len(rows)])
    for name, rows in data.tables.items():
        sheet = book.create_sheet(name[:31])
        header = list(rows[0]) if rows else []
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(row[c]) for c in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula in a spreadsheet someone opens
    return value
