"""The columns of each kind of record (:data:`SHEETS`) and how a file or sheet names its kind.

The column definitions are the one source of truth for the importer, the template files under
``sel_time/data/templates/`` and the API documentation; ``python -m sel_time.imports``
regenerates the templates.
"""
from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from ..core.errors import FieldError, ValidationError
from ..models import (
    AbsenceKind,
    CommitmentUnit,
    Half,
    Period,
    Profession,
    RoleLevel,
    TeamKind,
)


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
    choices: builtins.type[Enum] | None = None  # ``type`` is the field above
    ref: str | None = None  # organisation, department, person or role
    example: Any = None
    help: str = ""

    @property
    def target(self) -> str:
        """The API field this column fills."""
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
        Column("lead", "ref", field="lead_person_id", ref="person", example=_EMAIL,
               help="email of the member who may ask to move the team's sessions; blank: "
                    "only rota managers"),
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
FIELD_COLUMN: dict[str, dict[str, str]] = {
    kind: {**{c.target: c.name for c in sheet.columns},
           **({"pattern": "clinical_sessions"} if kind == "people" else {})}
    for kind, sheet in SHEETS.items()
}


def norm_name(text: Any) -> str:
    """A column or sheet name as a key: "Start date" and "start-date" → "start_date"."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().lower()).strip("_*")


def kind_from_words(text: str) -> str | None:
    """The kind a file or sheet name speaks of (staff-2026.csv → people)."""
    words = set(re.split(r"[^a-z]+", text.lower()))
    joined = norm_name(text)
    # Most specific first: "role-assignments" is assignments, "staff-leave" is leave.
    for kind in ("assignments", "leave", "teams", "people", "roles"):
        sheet = SHEETS[kind]
        names = {kind, *sheet.aliases}
        if joined in names or words & {n for n in names if "_" not in n}:
            return kind
    return None


def kind_from_header(header: Iterable[str | None]) -> str | None:
    """The one kind whose required columns a header has and whose columns it best fits."""
    names = {h for h in header if h}
    fits = [(len(names & {c.name for c in s.columns}), kind) for kind, s in SHEETS.items()
            if set(s.required) <= names]
    fits.sort(reverse=True)
    if not fits or (len(fits) > 1 and fits[0][0] == fits[1][0]):
        return None
    return fits[0][1]


def kind_named(name: str) -> str | None:
    """The kind a sheet (or the ``kind`` option) is named after: "People", "staff", "leave"."""
    norm = norm_name(name)
    return next((k for k, s in SHEETS.items() if norm in {k, *s.aliases}), None)


def check_kind(kind: str | None) -> str | None:
    """The kind an import was asked for (None: from the file), or a 422 naming the kinds."""
    if kind is None or kind == "":
        return None
    found = kind_named(kind)
    if found:
        return found
    raise ValidationError(f"kind must be one of {', '.join(KINDS)}",
                          [FieldError("kind", f'"{kind}" is not one of {", ".join(KINDS)}')])

