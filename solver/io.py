"""Problem and solution JSON (see shared/spec/solver-io.md): parse, validate, write.

Every fault is collected with the JSON path of the offending value, e.g.
``people[3].available: unknown slot "2026-13-01/AM"``, and raised together as one
`ProblemError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from solver.model import (
    PROBLEM_FORMAT,
    REASONS,
    SOLUTION_FORMAT,
    STATUSES,
    GroupShare,
    Pin,
    PreviousEntry,
    Problem,
    Session,
    Shortfall,
    Solution,
    TeamSession,
)
from solver.read_people import _parse_commitments, _parse_people, _parse_slots
from solver.read_teams import _parse_caps, _parse_entries, _parse_teams, _parse_weights
from solver.reader import JSONObject, ProblemError, _items, _kind, _q, _Reader, load_json

__all__ = [
    "ProblemError",
    "load_json",
    "load_problem",
    "parse_problem",
    "parse_solution",
    "solution_to_dict",
]


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file."""
    return parse_problem(load_json(path))


# ---- a small collecting reader ----------------------------------------------------


# ---- problem --------------------------------------------------------------------


def parse_problem(data: Any) -> Problem:
    """Validate a problem document and return it as a `Problem`.

    Raises `ProblemError` listing every fault found, each naming its JSON path.
    """
    r = _Reader()
    root = r.obj(data, "$")
    if root is None:
        raise ProblemError(r.errors)

    fmt = root.get("format")
    if fmt != PROBLEM_FORMAT:
        if fmt is None:
            r.err("format", f'missing; expected "{PROBLEM_FORMAT}"')
        else:
            r.err("format", f'unsupported format {_q(fmt)}; expected "{PROBLEM_FORMAT}"')

    timezone = "Europe/London"
    if root.get("timezone") is not None:
        tz = r.string(root["timezone"], "timezone")
        if tz is not None:
            try:
                ZoneInfo(tz)
                timezone = tz
            except (ZoneInfoNotFoundError, ValueError):
                r.err("timezone", f"unknown time zone {_q(tz)}")

    # Ids are registered even when the rest of their entry is faulty, so one bad
    # entry is reported once and not again at every reference to it.
    slots, slot_ids = _parse_slots(r, root)
    horizon = (slots[0].day, slots[-1].day) if slots else None

    people, person_ids = _parse_people(r, root, slot_ids)
    commitments, commitment_person = _parse_commitments(r, root, person_ids, horizon)
    teams, team_ids = _parse_teams(r, root, person_ids, slot_ids, horizon)
    caps = _parse_caps(r, root, slot_ids)
    pinned = _parse_entries(
        r, root, "pinned", Pin, person_ids, team_ids, commitment_person, slot_ids
    )
    previous = _parse_entries(
        r, root, "previous", PreviousEntry, person_ids, team_ids, commitment_person, slot_ids
    )
    weights = _parse_weights(r, root)

    if r.errors:
        raise ProblemError(r.errors)
    return Problem(
        slots=tuple(slots),
        people=tuple(people),
        commitments=tuple(commitments),
        teams=tuple(teams),
        caps=tuple(caps),
        pinned=tuple(pinned),
        previous=tuple(previous),
        weights=weights,
        timezone=timezone,
    )


# ---- solution -------------------------------------------------------------------


def _money(x: float | None) -> float | None:
    if x is None:
        return None
    v = round(float(x), 2)
    return 0.0 if v == 0 else v


def solution_to_dict(sol: Solution) -> JSONObject:
    """The solution document (money rounded to 2 dp)."""
    shortfalls = []
    for sf in sol.shortfalls:
        d: dict[str, Any] = {}
        if sf.commitment is not None:
            d["commitment"] = sf.commitment
        if sf.team is not None:
            d["team"] = sf.team
        d.update(window=sf.window, required=sf.required, scheduled=sf.scheduled, reason=sf.reason)
        if sf.explanation:
            d["explanation"] = sf.explanation
        shortfalls.append(d)
    doc: dict[str, Any] = {
        "format": SOLUTION_FORMAT,
        "status": sol.status,
        "objective": _money(sol.objective),
        "bound": _money(sol.bound),
        "wall_seconds": round(sol.wall_seconds, 3),
        "sessions": [
            {"person": s.person, "commitment": s.commitment, "slot": s.slot, "cost": _money(s.cost)}
            for s in sol.sessions
        ],
        "team_sessions": [
            {
                "team": t.team,
                "slot": t.slot,
                "attendees": list(t.attendees),
                "absent": list(t.absent),
                "cost": _money(t.cost),
            }
            for t in sol.team_sessions
        ],
        "shortfalls": shortfalls,
        "conflicts": list(sol.conflicts),
        "totals": {k: (_money(v) if k == "backfill_cost" else v) for k, v in sol.totals.items()},
        "objective_terms": {k: _money(v) for k, v in sol.objective_terms.items()},
        "solver": dict(sol.solver),
        "breakdown": {
            p: {k: _money(v) for k, v in terms.items()} for p, terms in sol.breakdown.items()
        },
        "team_breakdown": {
            t: {k: _money(v) for k, v in terms.items()} for t, terms in sol.team_breakdown.items()
        },
    }
    if sol.groups:  # the problem names groups (additive in @1)
        doc["groups"] = [
            {"group": g.group, "entitled": g.entitled, "short": g.short} for g in sol.groups
        ]
    return doc


def parse_solution(data: Any) -> Solution:
    """Read a solution document (shape only; `check` verifies it against a problem)."""
    r = _Reader()
    root = r.obj(data, "$")
    if root is None:
        raise ProblemError(r.errors)
    if root.get("format") != SOLUTION_FORMAT:
        r.err(
            "format", f'unsupported format {_q(root.get("format"))}; expected "{SOLUTION_FORMAT}"'
        )
    status = root.get("status")
    if status not in STATUSES:
        r.err("status", f"unknown status {_q(status)}")

    def opt_num(key: str) -> float | None:
        v = root.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            r.err(key, f"expected a number, got {_kind(v)}")
            return None
        return float(v)

    objective, bound = opt_num("objective"), opt_num("bound")
    wall = opt_num("wall_seconds") or 0.0

    sessions = []
    for path, d in _items(r, root, "sessions"):
        person, commitment, slot = (
            r.string(d.get(k), f"{path}.{k}") for k in ("person", "commitment", "slot")
        )
        cost = r.number(d.get("cost", 0), f"{path}.cost", "cost")
        if person is not None and commitment is not None and slot is not None and cost is not None:
            sessions.append(Session(person, commitment, slot, cost))
    team_sessions = []
    for path, d in _items(r, root, "team_sessions"):
        team, slot = (
            r.string(d.get("team"), f"{path}.team"),
            r.string(d.get("slot"), f"{path}.slot"),
        )
        lists = []
        for key in ("attendees", "absent"):
            lst = r.lst(d.get(key, []), f"{path}.{key}")
            lists.append([x for j, x in enumerate(lst or []) if r.string(x, f"{path}.{key}[{j}]")])
        cost = r.number(d.get("cost", 0), f"{path}.cost", "cost")
        if team and slot and cost is not None:
            team_sessions.append(TeamSession(team, slot, tuple(lists[0]), tuple(lists[1]), cost))
    shortfalls = []
    for path, d in _items(r, root, "shortfalls"):
        window = r.integer(d.get("window"), f"{path}.window")
        required = r.integer(d.get("required"), f"{path}.required")
        scheduled = r.integer(d.get("scheduled"), f"{path}.scheduled")
        reason = d.get("reason")
        if reason not in REASONS:
            r.err(f"{path}.reason", f"unknown reason {_q(reason)}")
        if d.get("commitment") is None and d.get("team") is None:
            r.err(path, "needs a commitment or a team")
        if (
            window is not None
            and required is not None
            and scheduled is not None
            and reason in REASONS
        ):
            shortfalls.append(
                Shortfall(
                    window=window,
                    required=required,
                    scheduled=scheduled,
                    reason=reason,
                    commitment=d.get("commitment"),
                    team=d.get("team"),
                    explanation=str(d.get("explanation", "")),
                )
            )
    group_shares = []
    for path, d in _items(r, root, "groups"):
        g = r.string(d.get("group"), f"{path}.group")
        entitled = r.integer(d.get("entitled"), f"{path}.entitled")
        short = r.integer(d.get("short"), f"{path}.short")
        if g is not None and entitled is not None and short is not None:
            group_shares.append(GroupShare(g, entitled, short))
    conflicts = r.lst(root.get("conflicts", []), "conflicts") or []
    for key in ("totals", "objective_terms", "solver", "breakdown", "team_breakdown"):
        if root.get(key) is not None:
            r.obj(root[key], key)
    if r.errors:
        raise ProblemError(r.errors)
    return Solution(
        status=str(status),  # one of STATUSES, checked above
        objective=objective,
        bound=bound,
        wall_seconds=wall,
        sessions=tuple(sessions),
        team_sessions=tuple(team_sessions),
        shortfalls=tuple(shortfalls),
        conflicts=tuple(str(c) for c in conflicts),
        totals=dict(root.get("totals") or {}),
        objective_terms=dict(root.get("objective_terms") or {}),
        solver=dict(root.get("solver") or {}),
        breakdown=dict(root.get("breakdown") or {}),
        team_breakdown=dict(root.get("team_breakdown") or {}),
        groups=tuple(group_shares),
    )
