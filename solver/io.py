"""Problem and solution JSON (see shared/spec/solver-io.md): parse, validate, write.

Every fault is collected with the JSON path of the offending value, e.g.
``people[3].available: unknown slot "2026-13-01/AM"``, and raised together as one
`ProblemError`.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from solver.model import (
    PROBLEM_FORMAT,
    REASONS,
    SOLUTION_FORMAT,
    STATUSES,
    Cap,
    Commitment,
    GroupShare,
    Person,
    Pin,
    PreviousEntry,
    Problem,
    Session,
    Shortfall,
    Slot,
    Solution,
    Team,
    TeamSession,
    Weights,
    Window,
)

__all__ = [
    "ProblemError",
    "load_json",
    "load_problem",
    "parse_problem",
    "parse_solution",
    "solution_to_dict",
]


JSONObject = dict[str, Any]  # a JSON object as read: its values are checked one by one
Entry = TypeVar("Entry", Pin, PreviousEntry)

MAX_NUMBER = 1_000_000_000  # GBP or a count: anything larger is a mistake, and CP-SAT needs int64


class ProblemError(ValueError):
    """The input is not a valid problem (or solution); `errors` has one line per fault."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def load_json(path: str | Path) -> Any:
    """Read a JSON file; unreadable or invalid JSON becomes a one-line ProblemError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError([f"{path}: cannot read file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise ProblemError([f"{path}: not UTF-8 text"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            [f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    except RecursionError:
        raise ProblemError([f"{path}: JSON nested too deeply to be a problem"]) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python will convert
        raise ProblemError([f"{path}: invalid JSON: {exc}"]) from None


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file."""
    return parse_problem(load_json(path))


# ---- a small collecting reader ----------------------------------------------------


def _q(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Reader:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def obj(self, value: Any, path: str) -> JSONObject | None:
        if not isinstance(value, dict):
            self.err(path, f"expected an object, got {_kind(value)}")
            return None
        return value

    def lst(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.err(path, f"expected a list, got {_kind(value)}")
            return None
        return value

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.err(path, f"expected a non-empty string, got {_kind(value)}")
            return None
        return value

    def opt_string(self, d: JSONObject, key: str, path: str) -> str | None:
        if key not in d or d[key] is None:
            return None
        return self.string(d[key], f"{path}.{key}")

    def integer(self, value: Any, path: str, minimum: int | None = 0) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, f"expected an integer, got {_kind(value)}")
            return None
        if minimum is not None and value < minimum:
            word = "negative" if minimum == 0 else f"below {minimum}"
            self.err(path, f"{word} value {value}")
            return None
        return value

    def number(self, value: Any, path: str, what: str = "value") -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            self.err(path, f"expected a number, got {_kind(value)}")
            return None
        if value < 0:
            self.err(path, f"negative {what} {value}")
            return None
        if value > MAX_NUMBER:
            self.err(path, f"{what} {value:.6g} is too large (at most {MAX_NUMBER:,.0f})")
            return None
        return float(value)

    def day(self, value: Any, path: str) -> date | None:
        if not isinstance(value, str):
            self.err(path, f"expected a date YYYY-MM-DD, got {_kind(value)}")
            return None
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date()
        except ValueError:
            self.err(path, f"not a date YYYY-MM-DD: {_q(value)}")
            return None

    def local_time(self, value: Any, path: str) -> datetime | None:
        if not isinstance(value, str):
            self.err(path, f"expected a local date-time YYYY-MM-DDTHH:MM, got {_kind(value)}")
            return None
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            self.err(path, f"not a local date-time YYYY-MM-DDTHH:MM: {_q(value)}")
            return None
        if dt.tzinfo is not None:
            self.err(path, f"must be a local time without offset: {_q(value)}")
            return None
        return dt


def _bad_date() -> date:
    raise ValueError("bad date")


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


def _items(
    r: _Reader, root: JSONObject, key: str, required: bool = False
) -> list[tuple[str, JSONObject]]:
    """The objects of a top-level list, with their paths."""
    if key not in root or root[key] is None:
        if required:
            r.err(key, "missing")
        return []
    items = r.lst(root[key], key)
    if items is None:
        return []
    out = []
    for i, item in enumerate(items):
        d = r.obj(item, f"{key}[{i}]")
        if d is not None:
            out.append((f"{key}[{i}]", d))
    return out


def _unique_id(r: _Reader, d: JSONObject, path: str, seen: dict[str, str]) -> str | None:
    if "id" not in d:
        r.err(f"{path}.id", "missing")
        return None
    ident = r.string(d["id"], f"{path}.id")
    if ident is None:
        return None
    if ident in seen:
        r.err(f"{path}.id", f"duplicate id {_q(ident)} (first at {seen[ident]})")
        return None
    seen[ident] = path
    return ident


def _parse_slots(r: _Reader, root: JSONObject) -> tuple[list[Slot], set[str]]:
    slots: list[Slot] = []
    paths: list[str] = []
    seen: dict[str, str] = {}
    items = _items(r, root, "slots", required=True)
    if "slots" in root and isinstance(root["slots"], list) and not root["slots"]:
        r.err("slots", "empty; a problem needs at least one slot")
    for path, d in items:
        ident = _unique_id(r, d, path, seen)
        start = r.local_time(d.get("start"), f"{path}.start")
        end = r.local_time(d.get("end"), f"{path}.end")
        if ident is None or start is None or end is None:
            continue
        if end <= start:
            r.err(f"{path}.end", f"ends at or before its start ({d['start']})")
            continue
        if slots:
            prev, prev_path = slots[-1], paths[-1]
            if start < prev.start:
                r.err(
                    f"{path}.start",
                    f"slots not in time order: starts before {prev_path} ({_q(prev.id)})",
                )
                continue
            if start < prev.end:
                r.err(
                    f"{path}.start",
                    f"overlaps {prev_path} ({_q(prev.id)}), "
                    f"which ends {prev.end.isoformat(timespec='minutes')}",
                )
                continue
        slots.append(Slot(ident, start, end))
        paths.append(path)
    return slots, set(seen)


def _slot_ref(r: _Reader, value: Any, path: str, slot_ids: set[str]) -> str | None:
    s = r.string(value, path)
    if s is not None and s not in slot_ids:
        r.err(path, f"unknown slot {_q(s)}")
        return None
    return s


def _parse_people(
    r: _Reader, root: JSONObject, slot_ids: set[str]
) -> tuple[list[Person], set[str]]:
    people = []
    seen: dict[str, str] = {}
    for path, d in _items(r, root, "people", required=True):
        ident = _unique_id(r, d, path, seen)
        ok = ident is not None
        available: dict[str, float] = {}
        av = r.obj(d.get("available", {}), f"{path}.available")
        if av is None:
            ok = False
        else:
            for sid, cost in av.items():
                if sid not in slot_ids:
                    r.err(f"{path}.available", f"unknown slot {_q(sid)}")
                    ok = False
                    continue
                if (
                    isinstance(cost, bool)
                    or not isinstance(cost, (int, float))
                    or not math.isfinite(cost)
                ):
                    r.err(
                        f"{path}.available",
                        f"cost for slot {_q(sid)} is {_kind(cost)}, expected a number",
                    )
                    ok = False
                elif cost < 0:
                    r.err(f"{path}.available", f"negative cost {cost} for slot {_q(sid)}")
                    ok = False
                elif cost > MAX_NUMBER:
                    r.err(f"{path}.available", f"cost {cost:.6g} for slot {_q(sid)} is too large "
                          f"(at most {MAX_NUMBER:,.0f})")
                    ok = False
                else:
                    available[sid] = float(cost)
        avoid: set[str] = set()
        if d.get("avoid") is not None:
            lst = r.lst(d["avoid"], f"{path}.avoid")
            if lst is None:
                ok = False
            else:
                for j, sid in enumerate(lst):
                    s = r.string(sid, f"{path}.avoid[{j}]")
                    if s is not None and s not in slot_ids:
                        r.err(f"{path}.avoid", f"unknown slot {_q(s)}")
                        ok = False
                    elif s is not None:
                        avoid.add(s)
        dept = r.opt_string(d, "department", path)
        name = r.opt_string(d, "name", path)
        groups: list[str] = []
        if d.get("groups") is not None:
            lst = r.lst(d["groups"], f"{path}.groups")
            if lst is None:
                ok = False
            else:
                for j, g in enumerate(lst):
                    s = r.string(g, f"{path}.groups[{j}]")
                    if s is None:
                        ok = False
                    elif s in groups:
                        r.err(f"{path}.groups[{j}]", f"duplicate group {_q(s)}")
                        ok = False
                    else:
                        groups.append(s)
        limits: dict[str, int | None] = {}
        for key in ("max_per_day", "max_per_week"):
            limits[key] = None
            if d.get(key) is not None:
                limits[key] = r.integer(d[key], f"{path}.{key}")
                ok = ok and limits[key] is not None
        if ("department" in d and d["department"] is not None and dept is None) or (
            "name" in d and d["name"] is not None and name is None
        ):
            ok = False
        if ok and ident is not None:
            people.append(
                Person(
                    id=ident,
                    available=available,
                    department=dept,
                    avoid=frozenset(avoid),
                    max_per_day=limits["max_per_day"],
                    max_per_week=limits["max_per_week"],
                    name=name,
                    groups=tuple(groups),
                )
            )
    return people, set(seen)


def _parse_windows(
    r: _Reader, d: JSONObject, path: str, horizon: tuple[date, date] | None, check_overlap: bool
) -> list[Window] | None:
    lst = r.lst(d.get("windows"), f"{path}.windows")
    if lst is None:
        return None
    windows: list[Window] = []
    wpaths: list[str] = []
    ok = True
    for j, item in enumerate(lst):
        wp = f"{path}.windows[{j}]"
        w = r.obj(item, wp)
        if w is None:
            ok = False
            continue
        start = r.day(w.get("from"), f"{wp}.from")
        end = r.day(w.get("to"), f"{wp}.to")
        sessions = r.integer(w.get("sessions"), f"{wp}.sessions")
        mx = None
        if w.get("max") is not None:
            mx = r.integer(w["max"], f"{wp}.max")
            if mx is None:
                ok = False
            elif sessions is not None and mx < sessions:
                r.err(f"{wp}.max", f"max {mx} is below sessions {sessions}")
                ok = False
        if start is None or end is None:
            ok = False
            continue
        if start > end:
            r.err(wp, f"from {start} is after to {end}")
            ok = False
            continue
        if horizon is not None and (end < horizon[0] or start > horizon[1]):
            r.err(wp, f"{start} to {end} is outside the horizon {horizon[0]} to {horizon[1]}")
            ok = False
            continue
        if sessions is None:
            ok = False
            continue
        if check_overlap:
            for other, op in zip(windows, wpaths):
                if start <= other.end and other.start <= end:
                    r.err(wp, f"overlaps {op.rsplit('.', 1)[1]} ({other.start} to {other.end})")
                    ok = False
                    break
        windows.append(Window(start, end, sessions, mx))
        wpaths.append(wp)
    return windows if ok else None


def _parse_commitments(
    r: _Reader, root: JSONObject, person_ids: set[str], horizon: tuple[date, date] | None
) -> tuple[list[Commitment], dict[str, str]]:
    out = []
    seen: dict[str, str] = {}
    owner: dict[str, str] = {}
    for path, d in _items(r, root, "commitments"):
        ident = _unique_id(r, d, path, seen)
        person = r.string(d.get("person"), f"{path}.person")
        if ident is not None and person is not None:
            owner[ident] = person
        if person is not None and person not in person_ids:
            r.err(f"{path}.person", f"unknown person {_q(person)}")
            person = None
        windows = _parse_windows(r, d, path, horizon, check_overlap=True)
        name = r.opt_string(d, "name", path)
        if ident is not None and person is not None and windows is not None:
            out.append(Commitment(ident, person, tuple(windows), name))
    return out, owner


def _parse_teams(
    r: _Reader,
    root: JSONObject,
    person_ids: set[str],
    slot_ids: set[str],
    horizon: tuple[date, date] | None,
) -> tuple[list[Team], set[str]]:
    out = []
    seen: dict[str, str] = {}
    for path, d in _items(r, root, "teams"):
        ident = _unique_id(r, d, path, seen)
        ok = ident is not None
        members: list[str] = []
        lst = r.lst(d.get("members"), f"{path}.members")
        if lst is None:
            ok = False
        else:
            for j, m in enumerate(lst):
                s = r.string(m, f"{path}.members[{j}]")
                if s is None:
                    ok = False
                elif s not in person_ids:
                    r.err(f"{path}.members[{j}]", f"unknown person {_q(s)}")
                    ok = False
                elif s in members:
                    r.err(f"{path}.members[{j}]", f"duplicate member {_q(s)}")
                    ok = False
                else:
                    members.append(s)
        quorum = r.integer(d.get("quorum"), f"{path}.quorum", minimum=None)
        if quorum is None:
            ok = False
        elif quorum < 1:
            r.err(f"{path}.quorum", f"quorum {quorum} is below 1")
            ok = False
        elif lst is not None and quorum > len(lst):
            r.err(f"{path}.quorum", f"quorum {quorum} is above the team size {len(lst)}")
            ok = False
        windows = _parse_windows(r, d, path, horizon, check_overlap=False)
        ok = ok and windows is not None
        allowed: frozenset[str] | None = None
        if d.get("slots") is not None:
            sl = r.lst(d["slots"], f"{path}.slots")
            if sl is None:
                ok = False
            else:
                found = set()
                for j, sid in enumerate(sl):
                    s = r.string(sid, f"{path}.slots[{j}]")
                    if s is not None and s not in slot_ids:
                        r.err(f"{path}.slots", f"unknown slot {_q(s)}")
                        ok = False
                    elif s is not None:
                        found.add(s)
                allowed = frozenset(found)
        name = r.opt_string(d, "name", path)
        if ok and ident is not None and quorum is not None and windows is not None:
            out.append(Team(ident, tuple(members), quorum, tuple(windows), allowed, name))
    return out, set(seen)


def _parse_caps(r: _Reader, root: JSONObject, slot_ids: set[str]) -> list[Cap]:
    """Caps; one naming a department that no person has is vacuous (kept, it binds nobody)."""
    out = []
    for path, d in _items(r, root, "caps"):
        dept = r.string(d.get("department"), f"{path}.department")
        max_away = r.integer(d.get("max_away"), f"{path}.max_away")
        allowed: frozenset[str] | None = None
        ok = True
        if d.get("slots") is not None:
            sl = r.lst(d["slots"], f"{path}.slots")
            if sl is None:
                ok = False
            else:
                found = set()
                for j, sid in enumerate(sl):
                    s = r.string(sid, f"{path}.slots[{j}]")
                    if s is not None and s not in slot_ids:
                        r.err(f"{path}.slots", f"unknown slot {_q(s)}")
                        ok = False
                    elif s is not None:
                        found.add(s)
                allowed = frozenset(found)
        if ok and dept is not None and max_away is not None:
            out.append(Cap(dept, max_away, allowed))
    return out


def _parse_entries(
    r: _Reader,
    root: JSONObject,
    key: str,
    cls: type[Entry],
    person_ids: set[str],
    team_ids: set[str],
    commitment_person: dict[str, str],
    slot_ids: set[str],
) -> list[Entry]:
    out: list[Entry] = []
    for path, d in _items(r, root, key):
        ok = True
        slot = _slot_ref(r, d.get("slot"), f"{path}.slot", slot_ids)
        ok = slot is not None
        person = r.opt_string(d, "person", path)
        team = r.opt_string(d, "team", path)
        commitment = r.opt_string(d, "commitment", path)
        if person is None and team is None:
            if d.get("person") is None and d.get("team") is None:
                r.err(path, "needs a person or a team")
            ok = False
        if person is not None and person not in person_ids:
            r.err(f"{path}.person", f"unknown person {_q(person)}")
            ok = False
        if team is not None and team not in team_ids:
            r.err(f"{path}.team", f"unknown team {_q(team)}")
            ok = False
        if commitment is not None:
            if commitment not in commitment_person:
                r.err(f"{path}.commitment", f"unknown commitment {_q(commitment)}")
                ok = False
            elif team is not None:
                r.err(f"{path}.commitment", "a team entry has no commitment")
                ok = False
            elif person is not None and commitment_person[commitment] != person:
                r.err(
                    f"{path}.commitment",
                    f"commitment {_q(commitment)} belongs to "
                    f"{_q(commitment_person[commitment])}, not {_q(person)}",
                )
                ok = False
        if ok and slot is not None:
            out.append(cls(slot=slot, person=person, commitment=commitment, team=team))
    return out


def _parse_weights(r: _Reader, root: JSONObject) -> Weights:
    if root.get("weights") is None:
        return Weights()
    d = r.obj(root["weights"], "weights")
    if d is None:
        return Weights()
    values = {}
    for key in ("shortfall", "absence", "churn", "avoid", "fairness"):
        if d.get(key) is not None:
            v = r.number(d[key], f"weights.{key}", "weight")
            if v is not None:
                values[key] = v
    return Weights(**values)


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
