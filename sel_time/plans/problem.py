"""From the database to a solver problem: the one module that builds what ``solver`` reads.

:func:`build_problem` gathers one scope's people, roles, teams, leave and rates over a horizon
into the solver's problem; the keys (``p12``, ``a34``, ``t5``) name the records in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

import solver

from ..core.cache import VersionedCache
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import (
    WEEKDAYS,
    Absence,
    Half,
    Person,
    Plan,
    PlanSession,
    ProtectedSession,
    RosterStatus,
    SessionKind,
)
from .calendar import Calendar, SlotInfo
from .entitlement import commitment_windows, sessions_per_period
from .rates import RateBook, slot_cost_pence
from .scope import Governed, Scope, governed

# Parsing an M-size problem takes ~150 ms, and every hand edit and move list judges against
# the plan's problem: parse it once per plan, as long as nothing has been written since.
_PARSED = VersionedCache(size=8)


def parsed_problem(plan: Plan) -> solver.Problem:
    """The plan's stored problem as the solver's dataclasses (immutable, so shared safely).
    Kept per process for the plan's solve (``finished_at``) and pins, and for the data
    version: any audited write, a re-solve or a change of pins parses it again."""
    stored = plan.problem
    if not stored:
        raise ValidationError("This plan has no problem yet", [FieldError("plan", "not solved")])
    key = ("problem", plan.id, plan.finished_at, len(stored.get("pinned") or ()))
    return _PARSED.get(key, lambda: solver.parse_problem(stored))


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
