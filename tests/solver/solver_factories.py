"""Plain helpers for the solver tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

MONDAY = date(2026, 3, 2)


def make_slots(days: int = 5, start: date = MONDAY, weekdays_only: bool = True) -> list[dict]:
    """AM and PM slots for `days` working days from `start`."""
    out = []
    d = start
    while len(out) < 2 * days:
        if not weekdays_only or d.weekday() < 5:
            for half, a, b in (("AM", "09:00", "13:00"), ("PM", "13:30", "17:30")):
                out.append({"id": f"{d}/{half}", "start": f"{d}T{a}", "end": f"{d}T{b}"})
        d += timedelta(days=1)
    return out


def window(frm: str = "2026-03-02", to: str = "2026-03-08", sessions: int = 1, **kw: Any) -> dict:
    return {"from": frm, "to": to, "sessions": sessions, **kw}


def random_problem(seed: int, people: int = 6, days: int = 10, teams: int = 2) -> dict:
    """A small random but realistic problem: leave, non-clinical slots, caps, teams, pins
    and a previous plan, all consistent."""
    rng = random.Random(seed)
    slots = make_slots(days)
    ids = [s["id"] for s in slots]
    depts = ["ed", "icu", "gp"]
    data: dict[str, Any] = {
        "format": "sel-time/problem@1",
        "slots": slots,
        "people": [],
        "commitments": [],
        "teams": [],
        "caps": [],
        "pinned": [],
        "previous": [],
        "weights": {"shortfall": rng.choice([300, 5000]), "absence": 200, "churn": 50, "avoid": 25},
    }
    for i in range(people):
        avail = {}
        for s in ids:
            if rng.random() < 0.6:
                avail[s] = rng.choice([0.0, 120.0, 212.4, 480.0])
        person: dict[str, Any] = {
            "id": f"p{i}",
            "department": rng.choice(depts),
            "available": avail,
        }
        if rng.random() < 0.3:
            person["avoid"] = rng.sample(ids, 2)
        if rng.random() < 0.5:
            person["max_per_day"] = 1
        if rng.random() < 0.3:
            person["max_per_week"] = 2
        data["people"].append(person)
        for k in range(rng.randint(1, 2)):
            weeks = []
            start = MONDAY
            while start <= MONDAY + timedelta(days=13):
                need = rng.randint(0, 2)
                w: dict[str, Any] = {
                    "from": str(start),
                    "to": str(start + timedelta(days=6)),
                    "sessions": need,
                }
                if rng.random() < 0.3:
                    w["max"] = need + 1
                weeks.append(w)
                start += timedelta(days=7)
            data["commitments"].append({"id": f"c{i}_{k}", "person": f"p{i}", "windows": weeks})
    present = sorted({p["department"] for p in data["people"]})
    data["caps"] = [{"department": d, "max_away": rng.randint(1, 2)} for d in present[:2]]
    for t in range(teams):
        size = rng.randint(2, min(5, people))
        members = rng.sample([p["id"] for p in data["people"]], size)
        team: dict[str, Any] = {
            "id": f"t{t}",
            "members": members,
            "quorum": rng.randint(1, size),
            "windows": [window("2026-03-02", "2026-03-13", rng.randint(1, 2))],
        }
        if rng.random() < 0.5:
            team["slots"] = rng.sample(ids, 6)
        data["teams"].append(team)
    # A pin that surely holds: someone's session in a slot they are available, nobody else there.
    p0 = data["people"][0]
    if p0["available"]:
        s = min(p0["available"])
        data["pinned"].append({"person": "p0", "commitment": "c0_0", "slot": s})
        for p in data["people"][1:]:
            p["available"].pop(s, None)
    for p in data["people"]:
        for s in sorted(p["available"])[:2]:
            if rng.random() < 0.5:
                data["previous"].append({"person": p["id"], "slot": s})
    return data
