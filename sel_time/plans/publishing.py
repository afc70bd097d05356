"""Publishing a plan: its sessions become the live roster for its horizon and scope, in one
transaction. Sessions keep their identity (and calendar UID) when they stay in their slot or
move; their sequence number rises whenever they change; the backfill cost is fixed on each
session when it is published, so a later rate change never rewrites history."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.orm import selectinload

import solver

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError, NotFound
from ..core.extensions import db
from ..models import (
    Attendance,
    Plan,
    PlanSession,
    PlanStatus,
    ProtectedSession,
    RosterStatus,
)
from .problem import key_id, person_key
from .scope import Scope, governed

# Who else must act when a plan is published (change requests send e-mail invitations to the
# leaders who chose them): a signal, so that plans need not know its listeners. Receivers run in
# the publish's transaction and must only flush. Keyword arguments: people, teams, now, dropped
# (PublishReport.dropped).
published = Namespace().signal("plan-published")

UID_NAMESPACE = uuid.UUID("6f1d3c1e-5b0a-4e37-9c39-5e1f2d9a7b10")
Owner = tuple[str, int]


@dataclass
class PublishReport:
    plan_id: int
    added: int = 0
    moved: int = 0
    changed: int = 0
    unchanged: int = 0
    cancelled: int = 0
    already_published: bool = False
    people: set[int] = field(default_factory=set)  # whose feeds changed
    teams: set[int] = field(default_factory=set)
    # (session id, person id): members taken off a team session that goes on without them
    dropped: set[tuple[int, int]] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_id,
            "added": self.added,
            "moved": self.moved,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "cancelled": self.cancelled,
            "already_published": self.already_published,
        }

    def summary(self) -> str:
        if self.already_published:
            return f"Plan {self.plan_id} is already published; nothing changed"
        return (
            f"Published plan {self.plan_id}: {self.added} added, {self.moved} moved, "
            f"{self.changed} changed, {self.unchanged} unchanged, {self.cancelled} removed"
        )


def _owner_of_plan_session(s: PlanSession) -> Owner:
    return ("t", s.team_id) if s.team_id is not None else ("a", s.assignment_id or 0)


def _owner_of_published(s: ProtectedSession) -> Owner:
    return ("t", s.team_id) if s.team_id is not None else ("a", s.assignment_id or 0)


def stable_uid(owner: Owner, slot: str, n: int = 0) -> str:
    """A UID derived from the session's identity (who it is for and the slot it was first
    published in), never from its position or a random value."""
    name = f"{owner[0]}{owner[1]}/{slot}" + (f"#{n}" if n else "")
    return f"{uuid.uuid5(UID_NAMESPACE, name)}@sel-time"


def _attendees(s: PlanSession) -> dict[int, int]:
    """person id → cost in pence of those attending."""
    if s.person_id is not None:
        return {s.person_id: s.cost_pence}
    return {a.person_id: a.cost_pence for a in s.attendees if a.attending}


def publish(
    plan_id: int, actor: Actor, *, now: datetime | None = None, frozen_from: datetime | None = None
) -> PublishReport:
    """Make the plan the live roster for its horizon and scope. Idempotent; flushes only.
    Sessions that have started, and any before ``frozen_from`` (the nightly refresh's frozen
    window), are history or frozen: publishing never touches them."""
    serialise_publishes()
    plan = db.session.get(
        Plan,
        plan_id,
        with_for_update=True,
        populate_existing=True,
        options=[selectinload(Plan.sessions).selectinload(PlanSession.attendees)],
    )
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    report = PublishReport(plan.id)
    if plan.status == PlanStatus.PUBLISHED:
        report.already_published = True
        record(actor, "publish", "plan", plan.id, None, report.as_dict())  # asked again: say so
        return report
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(
            f"Plan {plan.id} is {plan.status.value}; only a draft can be published",
            [FieldError("plan", plan.status.value)],
        )
    problem = solver.parse_problem(plan.problem or {})
    refuse_if_rules_broken(plan, problem)
    now = now or now_utc()
    with db.session.no_autoflush:
        _apply(plan, problem, report, now, max(now, frozen_from) if frozen_from else now)
    db.session.flush()
    record(actor, "publish", "plan", plan.id, None, report.as_dict())
    from ..feeds import mark_stale

    mark_stale(report.people, report.teams)
    published.send(plan, people=report.people, teams=report.teams, now=now,
                   dropped=report.dropped)
    return report


# Any fixed 64-bit number, the same in every process: the key of the publish lock.
PUBLISH_LOCK = 0x5E17_0001


def serialise_publishes() -> None:
    """Wait for any other publish to finish (PostgreSQL: a transaction-level advisory lock,
    released at commit or rollback), so a publish reads the live roster as the previous one
    left it and two never add the same session. SQLite has one writer at a time already.
    The nightly refresh takes it before it touches any plan, so it cannot deadlock with a
    rota manager's publish."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(PUBLISH_LOCK)))


def refuse_if_rules_broken(plan: Plan, problem: solver.Problem) -> None:
    """Re-check the whole plan as it stands (edits included) against the hard rules of its
    problem with the solver's own checker, and refuse to publish one that breaks any, in
    words."""
    from .solutions import plan_as_solution

    verdict = solver.check(problem, plan_as_solution(plan, problem))
    broken = [v for v in verdict.violations if "(rule " in v]
    if broken:
        words = _Words(plan, problem)
        raise Conflict(
            f"Plan {plan.id} breaks {len(broken)} hard rule"
            f"{'' if len(broken) == 1 else 's'}; nothing was published",
            [FieldError("plan", words.say(v)) for v in broken],
        )


class _Words:
    """The solver checker's ids (p12, a3, t2, department codes, 2027-04-27/AM) as names."""

    KEY = re.compile(r"\b([pat])(\d+)\b|(\d{4}-\d{2}-\d{2}/(?:AM|PM))")
    CAP = re.compile(r"^\d+ of (\S+) away in (\S+),")

    def __init__(self, plan: Plan, problem: solver.Problem) -> None:
        from ..models import Department

        self.plan = plan
        self.names = {p.id: p.name or p.id for p in problem.people}
        self.names |= {
            c.id: f"{self.names.get(c.person, c.person)}'s {c.name or 'commitment'}"
            for c in problem.commitments
        }
        self.names |= {t.id: t.name or t.id for t in problem.teams}
        self.dept_of = {p.id: p.department for p in problem.people}
        codes = {d for d in self.dept_of.values() if d}
        self.departments = (
            {
                d.code: d.name
                for d in db.session.scalars(
                    sa.select(Department).where(Department.code.in_(sorted(codes)))
                )
            }
            if codes
            else {}
        )

    def say(self, violation: str) -> str:
        from ..core.slots import slot_label

        extra = ""
        cap = self.CAP.match(violation)
        if cap:
            dept, slot = cap.groups()
            away = sorted(
                {
                    pid
                    for s in self.plan.sessions
                    if s.slot == slot
                    for pid in (
                        [s.person_id]
                        if s.person_id
                        else [a.person_id for a in s.attendees if a.attending]
                    )
                    if self.dept_of.get(person_key(pid)) == dept
                }
            )
            extra = ": " + ", ".join(
                self.names.get(person_key(pid), f"person {pid}") for pid in away
            )
            violation = violation.replace(f" {dept} ", f" {self.departments.get(dept, dept)} ", 1)

        def name(m: re.Match[str]) -> str:
            if m.group(3):
                return slot_label(m.group(3))
            return str(self.names.get(m.group(1) + m.group(2), m.group(0)))

        return self.KEY.sub(name, violation) + extra


def _apply(
    plan: Plan, problem: solver.Problem, report: PublishReport, now: datetime, cutoff: datetime
) -> None:
    first, last = plan.start_date, plan.end_date
    gov = governed(Scope.parse(plan.scope), first, last)
    owners_in_problem = {("a", key_id(c.id)) for c in problem.commitments}
    owners_in_problem |= {("t", key_id(t.id)) for t in problem.teams}

    def governs(o: tuple[str, int]) -> bool:
        return (
            o in owners_in_problem
            or (o[0] == "a" and o[1] in gov.assignment_ids)
            or (o[0] == "t" and o[1] in gov.team_ids)
        )

    slots_in_horizon = {s.id for s in problem.slots}
    existing = [
        s
        for s in db.session.scalars(
            sa.select(ProtectedSession)
            .where(
                ProtectedSession.start_at >= cutoff,
                ProtectedSession.slot.in_(sorted(slots_in_horizon)),
            )
            .options(selectinload(ProtectedSession.attendances))
            .order_by(ProtectedSession.start_at, ProtectedSession.id)
        )
        if s.slot in slots_in_horizon and (governs(_owner_of_published(s)) or gov.governs(s))
    ]
    live = [s for s in existing if s.status == RosterStatus.CONFIRMED]
    cancelled_by_key = {
        (_owner_of_published(s), s.slot): s for s in existing if s.status == RosterStatus.CANCELLED
    }
    wanted = [s for s in plan.sessions if s.start_at >= cutoff]

    taken_uids = set(db.session.scalars(sa.select(ProtectedSession.uid)))
    live_by_key = {(_owner_of_published(s), s.slot): s for s in live}
    matched_old: set[int] = set()
    unmatched_new: dict[Owner, list[PlanSession]] = defaultdict(list)
    for ps in wanted:
        key = (_owner_of_plan_session(ps), ps.slot)
        old = live_by_key.get(key)
        if old is not None:
            matched_old.add(old.id)
            if _sync_attendance(old, ps, now, report):
                report.changed += 1
                _touch(report, old)
            else:
                report.unchanged += 1
            old.plan_id = plan.id
        else:
            unmatched_new[key[0]].append(ps)

    unmatched_old: dict[Owner, list[ProtectedSession]] = defaultdict(list)
    for s in live:
        if s.id not in matched_old:
            unmatched_old[_owner_of_published(s)].append(s)

    for owner, news in unmatched_new.items():
        olds = unmatched_old.get(owner, [])
        for ps in news:
            revived = cancelled_by_key.get((owner, ps.slot))
            if olds:  # the same person's or team's session, moved to another slot
                _reuse(olds.pop(0), ps, plan.id, now, report)
                report.moved += 1
                _touch(report, ps)
            elif revived is not None:  # back in a slot it was removed from
                _reuse(revived, ps, plan.id, now)
                report.added += 1
                _touch(report, ps)
            else:
                session = ProtectedSession(
                    uid=_free_uid(owner, ps.slot, taken_uids),
                    person_id=ps.person_id,
                    assignment_id=ps.assignment_id,
                    team_id=ps.team_id,
                    slot=ps.slot,
                    start_at=ps.start_at,
                    end_at=ps.end_at,
                    status=RosterStatus.CONFIRMED,
                    sequence=0,
                    plan_id=plan.id,
                    published_at=now,
                    last_modified=now,
                )
                db.session.add(session)
                _sync_attendance(session, ps, now, fresh=True)
                report.added += 1
                _touch(report, session)
    for olds in unmatched_old.values():
        for old in olds:
            old.status = RosterStatus.CANCELLED
            old.sequence += 1
            old.last_modified = now
            report.cancelled += 1
            _touch(report, old)

    for other in db.session.scalars(
        sa.select(Plan).where(
            Plan.status == PlanStatus.PUBLISHED, Plan.scope == plan.scope, Plan.id != plan.id
        )
    ):
        other.status = PlanStatus.SUPERSEDED
    plan.status = PlanStatus.PUBLISHED
    plan.published_at = now


def _free_uid(owner: Owner, slot: str, taken: set[str]) -> str:
    n = 0
    while True:
        uid = stable_uid(owner, slot, n)
        if uid not in taken:
            taken.add(uid)
            return uid
        n += 1


def _reuse(
    session: ProtectedSession,
    ps: PlanSession,
    plan_id: int,
    now: datetime,
    report: PublishReport | None = None,
) -> None:
    """Give an existing session (moved, or cancelled earlier) the plan session's slot and
    attendees; its identity stays and its sequence rises. Members of a live team session who
    do not come along are reported as dropped."""
    if report is not None and session.team_id is not None:
        _dropped(report, session, set(_attendees(ps)))
    session.slot, session.start_at, session.end_at = ps.slot, ps.start_at, ps.end_at
    session.status = RosterStatus.CONFIRMED
    session.sequence += 1
    session.last_modified = now
    session.plan_id = plan_id
    session.attendances.clear()
    db.session.flush()
    _sync_attendance(session, ps, now, fresh=True)


def _touch(report: PublishReport, s: ProtectedSession | PlanSession) -> None:
    if s.team_id is not None:
        report.teams.add(s.team_id)
    for a in s.attendances if isinstance(s, ProtectedSession) else s.attendees:
        report.people.add(a.person_id)
    if s.person_id is not None:
        report.people.add(s.person_id)


def _dropped(report: PublishReport, session: ProtectedSession, staying: set[int]) -> None:
    """Record the attendees of a live session that goes on without them (their feeds change
    too, and those who chose e-mail invitations are sent a cancellation)."""
    if session.status != RosterStatus.CONFIRMED:
        return
    for a in session.attendances:
        if a.person_id not in staying:
            report.dropped.add((session.id, a.person_id))
            report.people.add(a.person_id)


def _sync_attendance(
    session: ProtectedSession,
    ps: PlanSession,
    now: datetime,
    report: PublishReport | None = None,
    fresh: bool = False,
) -> bool:
    """Make the session's attendances those of the plan session. Costs already fixed on an
    attendance are kept; new attendances fix today's cost. Returns whether anything changed."""
    want = _attendees(ps)
    if report is not None and not fresh:
        _dropped(report, session, set(want))
    have = {a.person_id: a for a in session.attendances}
    changed = False
    for pid, att in list(have.items()):
        if pid not in want:
            session.attendances.remove(att)
            changed = True
    for pid, cost in want.items():
        if pid not in have:
            session.attendances.append(Attendance(person_id=pid, cost_pence=cost))
            changed = True
    if changed and not fresh:
        session.sequence += 1
        session.last_modified = now
    return changed
