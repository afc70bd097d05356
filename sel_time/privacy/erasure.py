"""Erasing a leaver: their personal fields are removed or replaced by a pseudonym, everywhere in
the database, while every row that finance and delivery figures are made of stays as it was.

Kept: the person row (now "Erased person 12", with organisation, department, profession, staff
group and band, which the summaries group by), their role holdings, published sessions and
attendance records (cost, outcome, fraction taken). Removed: e-mail, name, staff number,
specialty, backfill-rate override, working pattern, preferences, leave, team memberships, free
text (notes) on their rows and in the audit trail's copies of them. Their user accounts are
pseudonymised and can no longer sign in (no password, inactive); API tokens and calendar feed
links are revoked and one-click record links ended. Then every text and JSON column of every
table (the audit trail, plans' solver documents, explanations, other engineers' tables as they
arrive) is swept for the name, e-mail and staff number and each is replaced by the pseudonym;
rendered feeds that named them are dropped (re-rendered on the next fetch). One audit entry says
who erased whom, without any of the erased values. Flushes, never commits.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import NotFound
from ..core.extensions import db
from ..models import (
    Absence,
    ApiToken,
    Attendance,
    AuditEvent,
    AvoidPreference,
    FeedCache,
    FeedKind,
    FeedToken,
    LoginFailure,
    PatternSession,
    Person,
    User,
    team_member,
)
from .subject import AUDIT_ENTITIES, subject_data

ERASED = "[erased]"
# Free-text columns: any column of these names on a row about the person is emptied, and so is
# the same key in the audit trail's copies of those rows.
FREE_TEXT = frozenset({"note", "notes", "comment", "comments", "reason", "message", "answer",
                       "answers", "free_text", "description", "text_body", "html_body"})
MIN_IDENTIFIER = 3  # shorter values (initials) are not swept: they would match everywhere


@dataclass
class ErasureReport:
    person_id: int
    pseudonym: str
    users: list[int] = field(default_factory=list)
    rows_swept: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        swept = ", ".join(f"{t} {n}" for t, n in sorted(self.rows_swept.items())) or "none"
        removed = ", ".join(f"{t} {n}" for t, n in sorted(self.removed.items())) or "none"
        return (f"Erased person {self.person_id} (now {self.pseudonym!r}); user accounts "
                f"{self.users or 'none'} closed; rows removed: {removed}; rows rewritten: {swept}")


def pseudonym_of(person_id: int) -> tuple[str, str]:
    return f"Erased person {person_id}", f"erased-person-{person_id}@erased.invalid"


def erase_person(person_id: int, actor: Actor) -> ErasureReport:
    """Erase the person ``person_id`` (see the module's description). Raises NotFound."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound(f"No person {person_id}")
    name, email = pseudonym_of(person.id)
    report = ErasureReport(person.id, name)
    users = list(db.session.scalars(sa.select(User).where(sa.or_(
        User.person_id == person.id, sa.func.lower(User.email) == person.email.lower()))))
    report.users = sorted(u.id for u in users)
    # What to look for everywhere, and what to put in its place (longest first).
    replacements: dict[str, str] = {}
    for value, instead in [(person.email, email), (person.name, name),
                           (person.staff_number, ERASED)]:
        if value and len(value.strip()) >= MIN_IDENTIFIER:
            replacements[value.strip()] = instead
    for user in users:
        for value, instead in [(user.email, f"erased-user-{user.id}@erased.invalid"),
                               (user.name, f"Erased user {user.id}")]:
            if value and len(value.strip()) >= MIN_IDENTIFIER:
                replacements.setdefault(value.strip(), instead)
    emails = [person.email, *(u.email for u in users)]
    throttle_keys = {_digest(f"email:{e.lower()}") for e in emails}
    for key in throttle_keys:
        replacements[key] = ERASED

    owned = subject_data(person_id=person.id)  # before anything is removed: whose rows are whose
    _free_text_in_audit(owned.tables, report)
    _close_accounts(users, report)
    _revoke_links(person.id, [u.id for u in users], report)
    _remove(person.id, report, throttle_keys)
    _empty_free_text(owned.tables)
    person.name, person.email = name, email
    person.staff_number = person.specialty = None
    person.backfill_rate_pence = person.max_per_day = person.max_per_week = None
    person.active = False
    person.link_generation = (person.link_generation or 0) + 1
    db.session.flush()
    _sweep(replacements, report)
    db.session.expire_all()
    record(actor, "erase", "person", person.id, None,
           {"users": report.users, "rows_removed": report.removed,
            "rows_rewritten": report.rows_swept})
    db.session.flush()
    return report


def rows_changed(statement: sa.Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; the rows it changed."""
    result = db.session.execute(statement)
    return int(cast(sa.CursorResult[Any], result).rowcount or 0)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _close_accounts(users: list[User], report: ErasureReport) -> None:
    for user in users:
        user.name = f"Erased user {user.id}"
        user.email = f"erased-user-{user.id}@erased.invalid"
        user.password_hash = None
        user.active = False
    now = now_utc()
    ids = [u.id for u in users]
    if ids:
        db.session.execute(sa.update(ApiToken).where(ApiToken.user_id.in_(ids),
                                                     ApiToken.revoked_at.is_(None))
                           .values(revoked_at=now))
        db.session.execute(sa.update(ApiToken).where(ApiToken.user_id.in_(ids))
                           .values(name=ERASED))


def _revoke_links(person_id: int, user_ids: list[int], report: ErasureReport) -> None:
    now = now_utc()
    theirs = sa.or_(
        FeedToken.holder_person_id == person_id,
        FeedToken.holder_user_id.in_(user_ids),
        sa.and_(FeedToken.kind == FeedKind.PERSON, FeedToken.target_id == person_id),
    )
    report.removed["feed links revoked"] = rows_changed(
        sa.update(FeedToken).where(theirs, FeedToken.revoked_at.is_(None)).values(revoked_at=now))
    db.session.execute(sa.delete(FeedCache).where(
        FeedCache.kind == FeedKind.PERSON, FeedCache.target_id == person_id))


def _remove(person_id: int, report: ErasureReport, throttle_keys: set[str]) -> None:
    for label, statement in [
        ("working pattern", sa.delete(PatternSession).where(PatternSession.person_id == person_id)),
        ("preferences", sa.delete(AvoidPreference).where(AvoidPreference.person_id == person_id)),
        ("leave", sa.delete(Absence).where(Absence.person_id == person_id)),
        ("team memberships", sa.delete(team_member).where(team_member.c.person_id == person_id)),
        ("failed sign-ins",
         sa.delete(LoginFailure).where(LoginFailure.key_hash.in_(throttle_keys))),
    ]:
        report.removed[label] = rows_changed(statement)
    db.session.execute(sa.update(Attendance).where(Attendance.person_id == person_id)
                       .values(note=None))
    db.session.expire_all()


def _empty_free_text(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Free text on the rows about them that remain (other engineers' tables included)."""
    for name, rows in tables.items():
        table = db.metadata.tables.get(name)
        if table is None or name == "audit_event" or not rows:
            continue
        columns = [c for c in table.columns if c.name in FREE_TEXT and c.nullable]
        pk = list(table.primary_key.columns)
        if not columns or len(pk) != 1:
            continue
        ids = [row[pk[0].name] for row in rows]
        db.session.execute(sa.update(table).where(pk[0].in_(ids))
                           .values({c.name: None for c in columns}))


def _free_text_in_audit(tables: dict[str, list[dict[str, Any]]], report: ErasureReport) -> None:
    """The audit trail's copies (old and new values) of their rows lose their free text."""
    about: list[sa.ColumnElement[bool]] = []
    for table, entities in AUDIT_ENTITIES.items():
        ids = [str(row["id"]) for row in tables.get(table, []) if "id" in row]
        if ids:
            about.append(sa.and_(AuditEvent.entity.in_(entities), AuditEvent.entity_id.in_(ids)))
    if not about:
        return
    changed = 0
    for event in db.session.scalars(sa.select(AuditEvent).where(sa.or_(*about))):
        for attr in ("old", "new"):
            value = getattr(event, attr)
            if isinstance(value, dict) and FREE_TEXT & set(value):
                setattr(event, attr, {k: (ERASED if k in FREE_TEXT and v else v)
                                      for k, v in value.items()})
                changed += 1
    report.rows_swept["audit_event (free text)"] = changed


# -- the sweep ---------------------------------------------------------------------------------


def _needles(replacements: dict[str, str]) -> list[str]:
    """What to look for in SQL: each value, and as JSON would escape it."""
    out = set()
    for value in replacements:
        out.add(value)
        out.add(json.dumps(value).strip('"'))
    return sorted(out)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sweep(replacements: dict[str, str], report: ErasureReport) -> None:
    """Replace every occurrence of an identifier in every text and JSON column of every table;
    drop rendered feeds that hold one."""
    if not replacements:
        return
    alternatives = "|".join(re.escape(v) for v in sorted(replacements, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.@-])(?:{alternatives})(?![\w@-])", re.I)
    lookup = {k.lower(): v for k, v in replacements.items()}

    def fix(text: str) -> str:
        return pattern.sub(lambda m: lookup[m.group(0).lower()], text)

    needles = _needles(replacements)
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if not pk:
            continue
        for column in table.columns:
            kind = _kind(column)
            if kind is None or column.primary_key:
                continue
            if kind == "binary":
                _sweep_binary(table, column, [n.encode() for n in needles], report)
                continue
            text = sa.cast(column, sa.Text) if kind == "json" else column
            found = sa.or_(*(sa.func.lower(text).like(_like(n.lower()), escape="\\")
                             for n in needles),
                           *(text.like(_like(n), escape="\\") for n in needles))
            rows = db.session.execute(sa.select(*pk, column).where(found)).all()
            for row in rows:
                value = row[-1]
                new = fix(value) if kind == "text" else _walk(value, fix)
                if new != value:
                    db.session.execute(sa.update(table).where(
                        *(c == row[i] for i, c in enumerate(pk))).values({column.name: new}))
                    report.rows_swept[table.name] = report.rows_swept.get(table.name, 0) + 1


def _kind(column: sa.Column[Any]) -> str | None:
    t = column.type
    if isinstance(t, sa.JSON):
        return "json"
    if isinstance(t, sa.LargeBinary):
        return "binary"
    if isinstance(t, (sa.String, sa.Text)) and not isinstance(t, sa.Enum):
        return "text"
    return None


def _walk(value: Any, fix: Any) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    if isinstance(value, dict):
        return {fix(k) if isinstance(k, str) else k: _walk(v, fix) for k, v in value.items()}
    return value


def _sweep_binary(table: sa.Table, column: sa.Column[Any], needles: list[bytes],
                  report: ErasureReport) -> None:
    """A binary column (a rendered feed) that holds an identifier is emptied (and a feed cache
    row marked stale, to be rendered again without it)."""
    pk = list(table.primary_key.columns)
    for row in db.session.execute(sa.select(*pk, column).where(column.is_not(None))):
        body = bytes(row[-1]).replace(b"\r\n ", b"").replace(b"\r\n\t", b"").lower()
        if any(n.lower() in body for n in needles):
            values: dict[str, Any] = {column.name: None}
            if "stale" in table.c:
                values["stale"] = True
            if "etag" in table.c:
                values["etag"] = None
            if column.nullable:
                db.session.execute(sa.update(table).where(
                    *(c == row[i] for i, c in enumerate(pk))).values(values))
                report.rows_swept[table.name] = report.rows_swept.get(table.name, 0) + 1
