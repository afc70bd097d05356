"""The live roster around one published session, judged by the solver's own hard rules
(`solver.rules`, through `solver.alternatives.Mover`): which other slots a session may move to,
whether a swap holds, and what each costs in backfill.

The problem is built from the database as it is now for the horizon of the plan that published
the session (so leave booked since, a new cover cap or a changed working pattern all count),
and the roster is the live published sessions, not a plan's. Building it reads the whole
horizon (about 2 s on the demo), so it is kept per process for each horizon and scope while
the data version (:func:`sel_time.core.cache.data_version`) stands: every audited write, and
every change to the roster, builds it again; a request that only looks reuses it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from types import MappingProxyType

import sqlalchemy as sa

import solver
from solver.alternatives import Alternative, Mover, SessionNotFound
from solver.rules import Roster, when

from ..core.cache import VersionedCache
from ..core.clock import now_utc
from ..core.errors import FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..models import Attendance, Department, Plan, PlanStatus, ProtectedSession, RosterStatus
from ..plans.calendar import Calendar, slot_times
from ..plans.problem import assignment_key, build_problem, key_id, person_key, team_key
from ..plans.scope import Scope


@dataclass(frozen=True)
class Option:
    """One slot a session could go to: allowed (and the change in backfill cost, in pence)
    or not (and the rules it breaks, in words). For a team, who would attend."""

    slot: str
    label: str
    start: datetime
    allowed: bool
    cost_change_pence: int | None
    reasons: tuple[str, ...]
    attendees: tuple[int, ...] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "slot": self.slot, "label": self.label, "start": self.start.isoformat(),
            "allowed": self.allowed,
            "cost_change": None if self.cost_change_pence is None
            else round(self.cost_change_pence / 100, 2),
            "reasons": list(self.reasons)}
        if self.attendees is not None:
            out["attendees"] = list(self.attendees)
        return out


@dataclass(frozen=True)
class Horizon:
    """The horizon and scope of a published plan (not the plan itself: its stored problem
    and solution are large, and a request needs neither)."""

    start: date
    weeks: int
    scope: str


def _horizon_of(session: ProtectedSession) -> Horizon:
    """The horizon of the published plan that holds the session (the one that published it,
    or a later one of the same horizon)."""
    day = session.start_at.date()
    plans = db.session.execute(
        sa.select(Plan.id, Plan.start_date, Plan.weeks, Plan.scope)
        .where(Plan.status == PlanStatus.PUBLISHED)
        .order_by(Plan.published_at.desc(), Plan.id.desc())).all()
    for plan_id, start, weeks, scope in plans:
        if plan_id == session.plan_id:
            return Horizon(start, weeks, scope)
    for _, start, weeks, scope in plans:
        if start <= day <= start + timedelta(weeks=weeks, days=-1):
            return Horizon(start, weeks, scope)
    raise ValidationError("This session is not in a published plan any more",
                          [FieldError("session", "no published plan holds it")])


@dataclass(frozen=True)
class _Live:
    """What every request about one horizon reads: the problem as the database has it now
    and the live roster as solver keys (person, slot index) → commitment, (team, slot index)
    → attendees. Immutable, so one copy serves every request until the data changes."""

    problem: solver.Problem
    sessions: Mapping[tuple[str, int], str]
    meetings: Mapping[tuple[str, int], tuple[str, ...]]
    stacked: tuple[tuple[str, int, str], ...]  # a second session of a person in one slot
    department_names: Mapping[str, str]


# Per horizon and scope (a few plans are published at once: the system's, or one a scope).
_KEPT = VersionedCache(size=8)


def _read_live(start: date, weeks: int, scope: str) -> _Live:
    built = build_problem(start, weeks, Scope.parse(scope))
    problem = solver.parse_problem(built.problem)
    index = problem.slot_index
    live = sa.select(ProtectedSession.id).where(
        ProtectedSession.status == RosterStatus.CONFIRMED, ProtectedSession.slot.in_(list(index)))
    attendees: dict[int, list[str]] = defaultdict(list)
    for attended, attendee in db.session.execute(
            sa.select(Attendance.session_id, Attendance.person_id)
            .where(Attendance.session_id.in_(live))
            .order_by(Attendance.session_id, Attendance.person_id)):
        attendees[attended].append(person_key(attendee))
    sessions: dict[tuple[str, int], str] = {}
    meetings: dict[tuple[str, int], tuple[str, ...]] = {}
    stacked: list[tuple[str, int, str]] = []
    for sid, slot, team_id, person_id, assignment_id in db.session.execute(
            sa.select(ProtectedSession.id, ProtectedSession.slot, ProtectedSession.team_id,
                      ProtectedSession.person_id, ProtectedSession.assignment_id)
            .where(ProtectedSession.id.in_(live)).order_by(ProtectedSession.id)):
        i = index[slot]
        if team_id is not None:
            if team_key(team_id) in problem.team:
                meetings[(team_key(team_id), i)] = tuple(
                    p for p in attendees[sid] if p in problem.person)
        elif person_id is not None and assignment_id is not None:
            c = assignment_key(assignment_id)
            if c not in problem.commitment:
                continue
            key = (person_key(person_id), i)
            if key in sessions:
                stacked.append((*key, c))
            else:
                sessions[key] = c
    names = {code: name for code, name in db.session.execute(
        sa.select(Department.code, Department.name))}
    return _Live(problem, MappingProxyType(sessions), MappingProxyType(meetings),
                 tuple(stacked), MappingProxyType(names))


def forget() -> None:
    """Drop the kept problems (a test that writes without the audit trail calls this)."""
    _KEPT.clear()


class LiveRules:
    """The problem of a published horizon as the database has it now, with the live roster
    (its own copy, so judging a swap may change it and put it back)."""

    def __init__(self, session: ProtectedSession) -> None:
        h = _horizon_of(session)
        live = _KEPT.get(("live-rules", h), partial(_read_live, h.start, h.weeks, h.scope))
        self.problem = problem = live.problem
        self.calendar = Calendar.from_config()
        roster = Roster.of(problem, dict(live.sessions), dict(live.meetings))
        for p, i, c in live.stacked:
            roster.add_session(p, c, i)
        roster.department_names = dict(live.department_names)
        self.roster = roster
        self.mover = Mover(problem, roster)

    def cost_pence(self, person_id: int, slot: str) -> int:
        i = self.problem.slot_index[slot]
        return self.problem.available_idx.get(person_key(person_id), {}).get(i, 0)

    def start(self, slot: str) -> datetime:
        """When a slot starts (aware UTC)."""
        return slot_times(slot, self.calendar)[0]

    def label(self, slot: str) -> str:
        return when(self.problem, self.problem.slot_index[slot])

    def _option(self, a: Alternative, cost: int | None,
                attendees: tuple[int, ...] | None = None) -> Option:
        i = self.problem.slot_index[a.slot]
        return Option(a.slot, when(self.problem, i), self.start(a.slot), a.allowed,
                      cost if a.allowed else None, a.reasons, attendees)

    # ---- an individual session ------------------------------------------------------------
    def person_options(self, session: ProtectedSession, person_id: int,
                       old_cost_pence: int) -> list[Option]:
        """Every other slot of the session's commitment window that has not started: allowed
        first, cheapest (backfill) first, then in time."""
        if session.assignment_id is None:
            raise ValidationError("Not an individual session", [FieldError("session", "team")])
        try:
            found = self.mover.for_person(person_key(person_id), session.slot,
                                          assignment_key(session.assignment_id))
        except SessionNotFound:
            raise NotFound("This session is not in the published plan's horizon") from None
        now = now_utc()
        out = [self._option(a, self.cost_pence(person_id, a.slot) - old_cost_pence)
               for a in found.alternatives if self.start(a.slot) > now]
        return _ranked(out)

    def judge_move(self, session: ProtectedSession, person_id: int, to_slot: str,
                   old_cost_pence: int) -> Option:
        for option in self.person_options(session, person_id, old_cost_pence):
            if option.slot == to_slot:
                return option
        raise ValidationError("That is not a slot this session can move to", [FieldError(
            "to_slot", f"{to_slot} is not another session of the same commitment window "
            "that is still to come")])

    def judge_swap(self, mine: ProtectedSession, theirs: ProtectedSession) -> tuple[bool,
                                                                                 list[str]]:
        """Both sessions exchange slots: (allowed, the rules broken in words)."""
        pr, r = self.problem, self.roster
        index = pr.slot_index
        if mine.slot not in index or theirs.slot not in index:
            return False, ["one of the sessions is outside the published horizon"]
        a, b = person_key(mine.person_id or 0), person_key(theirs.person_id or 0)
        ca = assignment_key(mine.assignment_id or 0)
        cb = assignment_key(theirs.assignment_id or 0)
        x, y = index[mine.slot], index[theirs.slot]
        reasons: list[str] = []
        for c, frm, to in ((ca, x, y), (cb, y, x)):
            if c not in pr.commitment or not any(lo <= frm < hi and lo <= to < hi
                                                 for lo, hi in pr.commitment_ranges[c]):
                reasons.append(f"{when(pr, to)} is outside the commitment window of "
                               f"{pr.commitment[c].label if c in pr.commitment else c}")
        if reasons:
            return False, reasons
        r.remove_session(b, y)
        try:
            first = self.mover.judge_session(a, ca, y, x)
            r.remove_session(a, x)
            r.add_session(a, ca, y)
            try:
                second = self.mover.judge_session(b, cb, x, None)
            finally:
                r.remove_session(a, y)
                r.add_session(a, ca, x)
        finally:
            r.add_session(b, cb, y)
        reasons = list(first.reasons) + [s for s in second.reasons if s not in first.reasons]
        return not reasons, reasons

    # ---- a team session -------------------------------------------------------------------
    def team_options(self, session: ProtectedSession) -> list[Option]:
        """Every other slot of the team session's window that has not started; allowed only
        where quorum holds (the solver's rule); cost is the attendees' backfill there less
        what the session costs now."""
        if session.team_id is None:
            raise ValidationError("Not a team session", [FieldError("session", "individual")])
        try:
            found = self.mover.for_team(team_key(session.team_id), session.slot)
        except SessionNotFound:
            raise NotFound("This team session is not in the published plan's horizon") from None
        now = now_utc()
        old = sum(a.cost_pence for a in session.attendances)
        out = []
        for a in found.alternatives:
            if self.start(a.slot) <= now:
                continue
            people = tuple(key_id(m) for m in a.attendees or ())
            cost = sum(self.cost_pence(p, a.slot) for p in people) - old
            out.append(self._option(a, cost, people))
        return _ranked(out)


def _ranked(options: list[Option]) -> list[Option]:
    return sorted(options, key=lambda o: (not o.allowed, o.cost_change_pence or 0, o.start))
