"""Reading a problem's slots, people, commitment windows and commitments."""

from __future__ import annotations

import math
from datetime import date

from solver.model import (
    Commitment,
    Person,
    Slot,
    Window,
)
from solver.reader import MAX_NUMBER, JSONObject, _items, _kind, _q, _Reader, _unique_id


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
