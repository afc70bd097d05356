"""From the database to a solver problem and back: the one module that imports both the
models and ``solver``.

The conversion of a role's commitment into solver windows is a policy rota managers and
leaders must be able to read; the README's "How commitments become sessions" section
describes exactly what :func:`commitment_windows` does.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..core.clock import UTC
from ..core.errors import FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..models import (
    WEEKDAYS,
    Absence,
    Attendance,
    CommitmentUnit,
    Half,
    Period,
    Person,
    PlanSession,
    ProtectedSession,
    RateCardEntry,
    RoleAssignment,
    RosterStatus,
    SessionKind,
    Team,
)

# -- the session calendar --------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    code: str
    start: time
    end: time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


def parse_templates(spec: str) -> list[Template]:
    """``"AM=09:00-13:00,PM=13:00-17:00"`` → templates, in time order."""
    out = []
    for part in spec.split(","):
        code, _, span = part.strip().partition("=")
        start, _, end = span.partition("-")
        out.append(
            Template(
                code.strip(), time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
            )
        )
    out.sort(key=lambda t: t.start)
    return out


@dataclass(frozen=True)
class SlotInfo:
    id: str  # "2026-03-02/AM"
    day: date
    half: str
    start_local: datetime  # naive wall-clock
    end_local: datetime
    start_utc: datetime
    end_utc: datetime
    minutes: int


@lru_cache(maxsize=64)
def bank_holidays(year: int, subdiv: str = "ENG") -> frozenset[date]:
    """England (and Wales) bank holidays from the maintained ``holidays`` package."""
    return frozenset(holidays.country_holidays("GB", subdiv=subdiv, years=year).keys())


def is_working_day(day: date, working_days: frozenset[int], subdiv: str = "ENG") -> bool:
    return day.isoweekday() in working_days and day not in bank_holidays(day.year, subdiv)


@dataclass(frozen=True)
class Calendar:
    """Session templates, working days and bank holidays in one place."""

    templates: tuple[Template, ...]
    working_days: frozenset[int]
    tz: ZoneInfo
    subdiv: str = "ENG"

    @classmethod
    def from_config(cls) -> Calendar:
        cfg = current_app.config
        return cls(
            tuple(parse_templates(cfg["SESSION_TEMPLATES"])),
            frozenset(int(x) for x in str(cfg["WORKING_DAYS"]).split(",")),
            ZoneInfo(cfg["TIMEZONE"]),
            cfg.get("BANK_HOLIDAY_SUBDIV", "ENG"),
        )

    def working(self, day: date) -> bool:
        return is_working_day(day, self.working_days, self.subdiv)

    def working_days_between(self, first: date, last: date) -> int:
        n, day = 0, first
        while day <= last:
            n += self.working(day)
            day += timedelta(days=1)
        return n

    def slots(self, start: date, end: date) -> list[SlotInfo]:
        out = []
        day = start
        while day <= end:
            if self.working(day):
                for t in self.templates:
                    s_local = datetime.combine(day, t.start)
                    e_local = datetime.combine(day, t.end)
                    out.append(
                        SlotInfo(
                            f"{day.isoformat()}/{t.code}",
                            day,
                            t.code,
                            s_local,
                            e_local,
                            s_local.replace(tzinfo=self.tz).astimezone(UTC),
                            e_local.replace(tzinfo=self.tz).astimezone(UTC),
                            t.minutes,
                        )
                    )
            day += timedelta(days=1)
        return out

    @property
    def session_minutes(self) -> int:
        return self.templates[0].minutes


def slot_times(slot_id: str, cal: Calendar) -> tuple[datetime, datetime]:
    """UTC start and end of a slot id such as ``2026-03-02/AM``."""
    day_s, _, code = slot_id.partition("/")
    day = date.fromisoformat(day_s)
    for t in cal.templates:
        if t.code == code:
            return (
                datetime.combine(day, t.start).replace(tzinfo=cal.tz).astimezone(UTC),
                datetime.combine(day, t.end).replace(tzinfo=cal.tz).astimezone(UTC),
            )
    raise ValidationError("Unknown session", [FieldError("slot", f'no session template "{code}"')])


# -- the commitment → windows policy ---------------------------------------------------------------


@dataclass(frozen=True)
class WindowSpec:
    start: date
    end: date
    sessions: int
    demand: Fraction  # the exact, unrounded entitlement in this window


def sessions_per_period(amount: float, unit: CommitmentUnit, session_minutes: int) -> Fraction:
    """A commitment in sessions per period. A programmed activity, a GP session and a session
    are each one half-day session; hours are divided by the length of a session."""
    exact = Fraction(amount).limit_denominator(1000)
    if unit == CommitmentUnit.HOURS:
        return exact * 60 / session_minutes
    return exact


def _periods(per: Period, first: date, last: date, anchor: date) -> list[tuple[date, date]]:
    """The whole periods (weeks and fortnights counted from ``anchor``, calendar months) that
    cover ``first``..``last``, unclipped."""
    out = []
    if per == Period.MONTH:
        y, m = first.year, first.month
        while date(y, m, 1) <= last:
            out.append((date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    length = 7 if per == Period.WEEK else 14
    offset = (first - anchor).days // length
    start = anchor + timedelta(days=offset * length)
    while start <= last:
        out.append((start, start + timedelta(days=length - 1)))
        start += timedelta(days=length)
    return out


def commitment_windows(
    per_period: Fraction,
    per: Period,
    horizon: tuple[date, date],
    active: tuple[date, date | None],
    cal: Calendar,
) -> list[WindowSpec]:
    """Turn an entitlement of ``per_period`` sessions a ``per`` into solver windows.

    1. Periods are weeks and fortnights counted from the horizon's first Monday, or calendar
       months. Consecutive periods are grouped (up to four weeks) into the shortest window in
       which the entitlement is a whole number of sessions: 1.5 a week → 3 a fortnight.
    2. A window only partly inside the horizon or the assignment's dates is pro-rated by its
       working days (bank holidays are not working days) and clipped to those dates.
    3. Rounding is cumulative and half-up over the horizon, so the horizon's total is the
       exact total rounded half-up: a leader is never short by more than half a session.
    """
    first = max(horizon[0], active[0])
    last = min(horizon[1], active[1] or horizon[1])
    if first > last or per_period <= 0:
        return []
    group = 1
    if per != Period.MONTH:
        for m in (1, 2, 4) if per == Period.WEEK else (1, 2):
            if (per_period * m).denominator == 1:
                group = m
                break
    periods = _periods(per, first, last, horizon[0])
    windows: list[tuple[date, date, Fraction]] = []
    for i in range(0, len(periods), group):
        chunk = periods[i : i + group]
        w_start, w_end = chunk[0][0], chunk[-1][1]
        full_days = cal.working_days_between(w_start, w_end)
        c_start, c_end = max(w_start, first), min(w_end, last)
        inside = cal.working_days_between(c_start, c_end)
        if full_days == 0 or inside == 0:
            continue
        demand = per_period * len(chunk) * Fraction(inside, full_days)
        windows.append((c_start, c_end, demand))
    out, cum, given = [], Fraction(0), 0
    for w_start, w_end, demand in windows:
        cum += demand
        target = int(cum + Fraction(1, 2))  # floor(cum + 1/2): half-up
        out.append(WindowSpec(w_start, w_end, target - given, demand))
        given = target
    return [w for w in out if w.sessions > 0]


# -- scope -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a plan governs: the whole system, one organisation, or one team."""

    kind: str
    code: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Scope:
        text = (text or "system").strip()
        if text == "system":
            return cls("system")
        kind, _, code = text.partition(":")
        if kind not in {"organisation", "team"} or not code:
            raise ValidationError(
                "Unknown scope",
                [FieldError("scope", 'use "system", "organisation:<code>" or "team:<code>"')],
            )
        return cls(kind, code)

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"


@dataclass
class Governed:
    """The assignments and teams whose sessions a plan decides."""

    assignments: list[RoleAssignment]
    teams: list[Team]
    # Whose individual sessions the plan also decides when their role has ended or they have
    # left (so that publishing cancels them): these people, or everyone when None.
    people: set[int] | None = field(default_factory=set)

    @property
    def assignment_ids(self) -> set[int]:
        return {a.id for a in self.assignments}

    @property
    def team_ids(self) -> set[int]:
        return {t.id for t in self.teams}

    def governs(self, s: ProtectedSession) -> bool:
        if s.team_id is not None:
            return s.team_id in self.team_ids
        return (
            s.assignment_id in self.assignment_ids
            or self.people is None
            or s.person_id in self.people
        )


def governed(scope: Scope, first: date, last: date) -> Governed:
    active = sa.and_(
        RoleAssignment.start_date <= last,
        sa.or_(RoleAssignment.end_date.is_(None), RoleAssignment.end_date >= first),
    )
    q = sa.select(RoleAssignment).join(Person).where(active, Person.active.is_(True))
    teams_q = sa.select(Team).order_by(Team.id)
    if scope.kind == "organisation":
        from ..models import Organisation

        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == scope.code))
        if org is None:
            raise NotFound(f"No organisation with code {scope.code}")
        q = q.where(Person.organisation_id == org.id)
        teams = [
            t
            for t in db.session.scalars(teams_q)
            if t.members and all(m.organisation_id == org.id for m in t.members)
        ]
        members = set(
            db.session.scalars(sa.select(Person.id).where(Person.organisation_id == org.id))
        )
        return Governed(list(db.session.scalars(q.order_by(RoleAssignment.id))), teams, members)
    elif scope.kind == "team":
        team = db.session.scalar(sa.select(Team).where(Team.code == scope.code))
        if team is None:
            raise NotFound(f"No team with code {scope.code}")
        return Governed([], [team])
    teams = list(db.session.scalars(teams_q))
    return Governed(list(db.session.scalars(q.order_by(RoleAssignment.id))), teams, None)


# -- rates -----------------------------------------------------------------------------------------


class RateBook:
    """The rate card in force on each date, with per-person overrides."""

    def __init__(self) -> None:
        self._by_group: dict[str, list[tuple[date, int]]] = defaultdict(list)
        for row in db.session.scalars(
            sa.select(RateCardEntry).order_by(RateCardEntry.effective_from)
        ):
            self._by_group[row.staff_group].append((row.effective_from, row.rate_pence_per_hour))

    def pence_per_hour(self, person: Person, day: date) -> int | None:
        if person.backfill_rate_pence is not None:
            return person.backfill_rate_pence
        rate = None
        for since, pence in self._by_group.get(person.staff_group, []):
            if since <= day:
                rate = pence
        return rate


def slot_cost_pence(rate_pence_per_hour: int, minutes: int) -> int:
    """Backfill for one slot, rounded to the penny (half-up)."""
    return int(Fraction(rate_pence_per_hour * minutes, 60) + Fraction(1, 2))


# -- the problem -----------------------------------------------------------------------------------


@dataclass
class BuiltProblem:
    problem: dict[str, Any]
    scope: Scope
    start: date
    weeks: int
    slots: dict[str, SlotInfo]
    governed: Governed
    people: dict[str, Person] = field(default_factory=dict)
    # Published sessions in the frozen window that the rules no longer allow (new leave on a
    # protected session): left as published and flagged for a rota manager.
    frozen_conflicts: list[str] = field(default_factory=list)


def person_key(pid: int) -> str:
    return f"p{pid}"


def assignment_key(aid: int) -> str:
    return f"a{aid}"


def team_key(tid: int) -> str:
    return f"t{tid}"


def key_id(key: str) -> int:
    return int(key[1:])


def _absent_halves(absences: Iterable[Absence]) -> set[tuple[date, str]]:
    out: set[tuple[date, str]] = set()
    for a in absences:
        day = a.start_date
        while day <= a.end_date:
            for half in (Half.AM, Half.PM):
                key = (day, 0 if half == Half.AM else 1)
                if a.start_key() <= key <= a.end_key():
                    out.add((day, half.value))
            day += timedelta(days=1)
    return out


def check_horizon(start: date, weeks: int) -> None:
    """A horizon starts on a Monday and lasts 1 to 52 weeks (422 naming the field)."""
    if start.weekday() != 0:
        raise ValidationError(
            "A horizon starts on a Monday",
            [FieldError("start", f"{start} is a {WEEKDAYS[start.weekday()]}")],
        )
    if not 1 <= weeks <= 52:
        raise ValidationError(
            "Plan between 1 and 52 weeks", [FieldError("weeks", "between 1 and 52")]
        )


def build_problem(
    start: date,
    weeks: int,
    scope: Scope,
    pins: Sequence[dict[str, str]] = (),
    frozen_until: date | None = None,
    drafts: Sequence[int] = (),
) -> BuiltProblem:
    """Build a ``sel-time/problem@1`` for ``weeks`` from ``start`` (a Monday) over ``scope``.

    Published sessions the plan governs become ``previous``; published sessions it does not
    govern (other teams, other organisations) block their people's slots and use up their
    departments' cover, and so do the sessions of ``drafts``: plans of other scopes made
    earlier in the same nightly refresh, published together with this one. Sessions before
    ``frozen_until`` are pinned as published.
    """
    check_horizon(start, weeks)
    cal = Calendar.from_config()
    end = start + timedelta(weeks=weeks, days=-1)
    slots = cal.slots(start, end)
    by_id = {s.id: s for s in slots}
    gov = governed(scope, start, end)
    rates = RateBook()

    people_ids = {a.person_id for a in gov.assignments} | {
        m.id for t in gov.teams for m in t.members if m.active
    }
    people = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Person)
            .where(Person.id.in_(people_ids))
            .options(selectinload(Person.organisation))
        )
    }
    absences: dict[int, list[Absence]] = defaultdict(list)
    for a in db.session.scalars(
        sa.select(Absence).where(
            Absence.person_id.in_(people_ids), Absence.start_date <= end, Absence.end_date >= start
        )
    ):
        absences[a.person_id].append(a)

    published = (
        list(
            db.session.scalars(
                sa.select(ProtectedSession)
                .where(
                    ProtectedSession.status == RosterStatus.CONFIRMED,
                    ProtectedSession.start_at >= slots[0].start_utc if slots else sa.true(),
                    ProtectedSession.start_at <= slots[-1].start_utc if slots else sa.true(),
                )
                .options(selectinload(ProtectedSession.attendances))
            )
        )
        if slots
        else []
    )
    # Who is away on sessions this plan does not decide, per slot.
    blocked: dict[int, set[str]] = defaultdict(set)
    external_away: dict[tuple[int, str], int] = defaultdict(int)
    previous: list[dict[str, Any]] = []
    frozen: list[tuple[dict[str, str], ProtectedSession]] = []
    seen: set[tuple[int | None, int | None, str]] = set()  # the external sessions counted
    attendance = {s.id: [a.person_id for a in s.attendances] for s in published}
    department_of = (
        dict(db.session.execute(sa.select(Person.id, Person.department_id)).all())
        if published
        else {}
    )
    for s in published:
        if s.slot not in by_id:
            continue
        if gov.governs(s):
            if s.team_id is not None:
                planned = {"team": team_key(s.team_id), "slot": s.slot}
            else:
                planned = {
                    "person": person_key(s.person_id or 0),
                    "commitment": assignment_key(s.assignment_id or 0),
                    "slot": s.slot,
                }
            previous.append(planned)
            if frozen_until is not None and by_id[s.slot].day < frozen_until:
                frozen.append((planned, s))
            continue
        seen.add((s.team_id, s.assignment_id, s.slot))
        for pid in attendance[s.id]:
            blocked[pid].add(s.slot)
            dept = department_of.get(pid)
            if dept is not None:
                external_away[(dept, s.slot)] += 1
    pending = (
        db.session.scalars(
            sa.select(PlanSession)
            .where(PlanSession.plan_id.in_(list(drafts)), PlanSession.slot.in_(list(by_id)))
            .options(selectinload(PlanSession.attendees))
        ).all()
        if drafts and by_id
        else []
    )
    if pending and not department_of:
        department_of = dict(db.session.execute(sa.select(Person.id, Person.department_id)).all())
    for ps in pending:  # other scopes' new sessions, unless the same session is published there
        if (ps.team_id, ps.assignment_id, ps.slot) in seen or (
            ps.team_id in gov.team_ids
            if ps.team_id is not None
            else ps.assignment_id in gov.assignment_ids
        ):
            continue
        for pid in (
            [ps.person_id]
            if ps.person_id is not None
            else [a.person_id for a in ps.attendees if a.attending]
        ):
            blocked[pid].add(ps.slot)
            dept = department_of.get(pid)
            if dept is not None:
                external_away[(dept, ps.slot)] += 1

    missing_rates: set[str] = set()
    out_people = []
    for pid in sorted(people):
        p = people[pid]
        pattern = {(ps.weekday, ps.half.value): ps.kind for ps in p.pattern}
        away = _absent_halves(absences[pid])
        available: dict[str, float] = {}
        for slot in slots:
            kind = pattern.get((slot.day.weekday(), slot.half))
            if kind is None or (slot.day, slot.half) in away or slot.id in blocked[pid]:
                continue
            if kind == SessionKind.NON_CLINICAL:
                available[slot.id] = 0.0
                continue
            rate = rates.pence_per_hour(p, slot.day)
            if rate is None:
                missing_rates.add(f"{p.staff_group} (first needed for {p.name} on {slot.day})")
                continue
            available[slot.id] = slot_cost_pence(rate, slot.minutes) / 100
        entry: dict[str, Any] = {
            "id": person_key(pid),
            "name": p.name,
            "available": available,
            "groups": [f"profession:{p.profession.value}", f"org:{p.organisation.code}"],
        }
        if p.department is not None:
            entry["department"] = p.department.code
        avoid_keys = {(a.weekday, a.half.value) for a in p.avoids}
        avoid = [
            s.id for s in slots if (s.day.weekday(), s.half) in avoid_keys and s.id in available
        ]
        if avoid:
            entry["avoid"] = avoid
        if p.max_per_day is not None:
            entry["max_per_day"] = p.max_per_day
        if p.max_per_week is not None:
            entry["max_per_week"] = p.max_per_week
        out_people.append(entry)
    frozen_pins, frozen_conflicts = _freeze(frozen, out_people, gov, people, frozen_until, by_id)
    if missing_rates:
        raise ValidationError(
            "The rate card has no backfill rate for some staff groups",
            [FieldError("staff_group", m) for m in sorted(missing_rates)],
        )

    commitments = []
    for held in gov.assignments:
        amount, unit, per = held.effective_commitment
        per_period = sessions_per_period(amount, unit, cal.session_minutes) * Fraction(
            held.share
        ).limit_denominator(1000)
        windows = commitment_windows(
            per_period, per, (start, end), (held.start_date, held.end_date), cal
        )
        if not windows:
            continue
        commitments.append(
            {
                "id": assignment_key(held.id),
                "person": person_key(held.person_id),
                "name": held.role.title,
                "windows": [
                    {
                        "from": w.start.isoformat(),
                        "to": w.end.isoformat(),
                        "sessions": w.sessions,
                        "max": w.sessions,
                    }
                    for w in windows
                ],
            }
        )

    teams = []
    for t in gov.teams:
        members = [person_key(m.id) for m in t.members if m.id in people]
        if not members:
            continue
        windows = commitment_windows(
            Fraction(t.sessions_amount), t.sessions_per, (start, end), (start, None), cal
        )
        if not windows:
            continue
        entry = {
            "id": team_key(t.id),
            "name": t.name,
            "members": members,
            "quorum": min(t.quorum, len(members)),
            "windows": [
                {"from": w.start.isoformat(), "to": w.end.isoformat(), "sessions": w.sessions}
                for w in windows
            ],
        }
        if t.allowed_slots:
            allowed = {tuple(x.split("/")) for x in t.allowed_slots}
            entry["slots"] = [s.id for s in slots if (WEEKDAYS[s.day.weekday()], s.half) in allowed]
        teams.append(entry)

    caps = []
    departments = {p.department for p in people.values() if p.department is not None}
    for d in sorted(departments, key=lambda d: d.code):
        caps.append({"department": d.code, "max_away": d.max_away})
        reduced: dict[int, list[str]] = defaultdict(list)
        for slot in slots:
            used = external_away.get((d.id, slot.id), 0)
            if used:
                reduced[max(0, d.max_away - used)].append(slot.id)
        for limit, slot_ids in sorted(reduced.items()):
            caps.append({"department": d.code, "max_away": limit, "slots": slot_ids})

    problem = {
        "format": "sel-time/problem@1",
        "timezone": str(cal.tz.key),
        "slots": [
            {
                "id": s.id,
                "start": s.start_local.isoformat(timespec="minutes"),
                "end": s.end_local.isoformat(timespec="minutes"),
            }
            for s in slots
        ],
        "people": out_people,
        "commitments": commitments,
        "teams": teams,
        "caps": caps,
        "pinned": _dedupe([*_planned(frozen_pins, commitments, teams), *pins]),
        "previous": _planned(previous, commitments, teams),
        # the other weights are the solver-io defaults; churn and fairness are sel-time's
        # (config.CHURN_WEIGHT, config.FAIRNESS_WEIGHT)
        "weights": {
            "churn": float(current_app.config["CHURN_WEIGHT"]),
            "fairness": float(current_app.config["FAIRNESS_WEIGHT"]),
        },
    }
    return BuiltProblem(
        problem,
        scope,
        start,
        weeks,
        by_id,
        gov,
        {person_key(k): v for k, v in people.items()},
        frozen_conflicts,
    )


def _freeze(
    frozen: list[tuple[dict[str, str], ProtectedSession]],
    out_people: list[dict[str, Any]],
    gov: Governed,
    people: dict[int, Person],
    frozen_until: date | None,
    slots: dict[str, SlotInfo],
) -> tuple[list[dict[str, str]], list[str]]:
    """Pin the published sessions inside the frozen window that still hold, flag those that
    no longer do, and take every other slot of the frozen window out of play (nothing there
    moves or appears automatically)."""
    if frozen_until is None:
        return [], []
    available = {p["id"]: p["available"] for p in out_people}
    teams = {team_key(t.id): t for t in gov.teams}
    pins: list[dict[str, str]] = []
    conflicts: list[str] = []
    keep: set[tuple[str, str]] = set()
    for entry, session in frozen:
        slot = entry["slot"]
        if "person" in entry:
            if slot in available.get(entry["person"], {}):
                pins.append(entry)
                keep.add((entry["person"], slot))
            else:
                who = (
                    people[key_id(entry["person"])].name
                    if key_id(entry["person"]) in people
                    else entry["person"]
                )
                conflicts.append(
                    f"{who} is no longer available for published protected time on "
                    f"{slots[slot].day:%a %d %b} {slots[slot].half} (inside the frozen window)"
                )
            continue
        team = teams.get(entry["team"])
        members = [person_key(m.id) for m in team.members] if team else []
        free = [m for m in members if slot in available.get(m, {})]
        if team is not None and len(free) >= min(team.quorum, len(members)):
            pins.append(entry)
            keep.update((m, slot) for m in free)
        else:
            name = team.name if team else entry["team"]
            conflicts.append(
                f"{name} no longer has a quorum for its published meeting on "
                f"{slots[slot].day:%a %d %b} {slots[slot].half} (inside the frozen window)"
            )
    for p in out_people:
        p["available"] = {
            k: v
            for k, v in p["available"].items()
            if slots[k].day >= frozen_until or (p["id"], k) in keep
        }
        if "avoid" in p:
            p["avoid"] = [k for k in p["avoid"] if k in p["available"]]
            if not p["avoid"]:
                del p["avoid"]
    return pins, conflicts


def _planned(
    entries: list[dict[str, str]], commitments: list[dict[str, Any]], teams: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Published entries whose role or team is still planned; the others (a role that ended,
    a leader who left) are left out, and publishing cancels their sessions."""
    known = {c["id"] for c in commitments} | {t["id"] for t in teams}
    return [e for e in entries if e.get("commitment", e.get("team")) in known]


def _dedupe(entries: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for e in entries:
        key = tuple(sorted(e.items()))
        if key not in seen:
            seen.add(key)
            out.append(dict(e))
    return out


__all__ = [
    "Attendance",
    "BuiltProblem",
    "Calendar",
    "Scope",
    "WindowSpec",
    "build_problem",
    "commitment_windows",
    "sessions_per_period",
    "slot_cost_pence",
]
