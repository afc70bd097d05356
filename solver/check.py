"""Re-verify a solution document against its problem from first principles: every hard
rule, every soft term and the objective recomputed (money to the penny, tolerance 0.01).

Deliberately independent of the model builder and of `solver.plan`: it reads the
solution as a rota manager's list of sessions and recounts everything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from solver.model import SOLUTION_FORMAT, STATUSES, TERMS, Problem, pence

__all__ = ["CheckResult", "check"]

TOLERANCE = 0.01


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    violations: list[str] = field(default_factory=list)
    objective: float | None = None  # recomputed, GBP

    def summary(self) -> str:
        if self.ok:
            return f"ok: every rule holds; objective {self.objective:.2f} recomputed"
        return f"{len(self.violations)} violation(s)"


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _has(known: Any, key: Any) -> bool:
    """``key in known`` for keys from an untrusted document (a list is not an id)."""
    return isinstance(key, str) and key in known


def check(problem: Problem, solution: dict) -> CheckResult:
    """Verify `solution` (a solution document) against `problem`."""
    v: list[str] = []
    if not isinstance(solution, dict):
        return CheckResult(False, ["$: expected a solution object"])
    if solution.get("format") != SOLUTION_FORMAT:
        v.append(f'format: expected "{SOLUTION_FORMAT}", got {solution.get("format")!r}')
    status = solution.get("status")
    if status not in STATUSES:
        v.append(f"status: unknown status {status!r}")
    slot_pos = {s.id: i for i, s in enumerate(problem.slots)}
    people = {p.id: p for p in problem.people}
    commitments = {c.id: c for c in problem.commitments}
    teams = {t.id: t for t in problem.teams}

    # activities[(person, slot)] -> descriptions; used by rules 1, 4, 5 and the soft terms
    activities: dict[tuple[str, str], list[str]] = defaultdict(list)
    session_keys: dict[tuple[str, str], str] = {}  # (person, slot) -> commitment
    meetings: dict[tuple[str, str], set[str]] = {}  # (team, slot) -> attendees
    cost_p = 0
    absences = 0

    sessions = solution.get("sessions") or []
    if not isinstance(sessions, list):
        v.append("sessions: expected a list")
        sessions = []
    for i, s in enumerate(sessions):
        path = f"sessions[{i}]"
        if not isinstance(s, dict):
            v.append(f"{path}: expected an object")
            continue
        p, c, slot = s.get("person"), s.get("commitment"), s.get("slot")
        if not _has(people, p):
            v.append(f"{path}.person: unknown person {p!r}")
            continue
        if not _has(slot_pos, slot):
            v.append(f"{path}.slot: unknown slot {slot!r}")
            continue
        if not _has(commitments, c):
            v.append(f"{path}.commitment: unknown commitment {c!r}")
            continue
        if commitments[c].person != p:
            v.append(f"{path}: commitment {c} belongs to {commitments[c].person}, not {p} (rule 6)")
        if slot not in people[p].available:
            v.append(f"{path}: {p} is not available in {slot} (rule 2)")
        else:
            cost = pence(people[p].available[slot])
            cost_p += cost
            given = _num(s.get("cost"))
            if given is None or abs(given - cost / 100) > TOLERANCE:
                v.append(
                    f"{path}.cost: {s.get('cost')!r} but {p}'s cost in {slot} is {cost / 100:.2f}"
                )
        if (p, slot) in session_keys:
            v.append(f"{path}: a second session for {p} in {slot} (rule 6: attributed once)")
        session_keys[(p, slot)] = c
        activities[(p, slot)].append(f"session for {c}")

    tsessions = solution.get("team_sessions") or []
    if not isinstance(tsessions, list):
        v.append("team_sessions: expected a list")
        tsessions = []
    for i, ts in enumerate(tsessions):
        path = f"team_sessions[{i}]"
        if not isinstance(ts, dict):
            v.append(f"{path}: expected an object")
            continue
        t, slot = ts.get("team"), ts.get("slot")
        if not _has(teams, t):
            v.append(f"{path}.team: unknown team {t!r}")
            continue
        if not _has(slot_pos, slot):
            v.append(f"{path}.slot: unknown slot {slot!r}")
            continue
        team = teams[t]
        if (t, slot) in meetings:
            v.append(f"{path}: {t} meets twice in {slot} (rule 3)")
            continue
        if team.slots is not None and slot not in team.slots:
            v.append(f"{path}: {t} may not meet in {slot} (rule 3)")
        attendees = ts.get("attendees") or []
        absent = ts.get("absent") or []
        if (not isinstance(attendees, list) or not isinstance(absent, list)
                or not all(isinstance(x, str) for x in [*attendees, *absent])):
            v.append(f"{path}: attendees and absent must be lists of person ids")
            continue
        if len(set(attendees)) != len(attendees):
            v.append(f"{path}.attendees: a member is listed twice")
        att = set(attendees)
        meeting_cost = 0
        for p in att:
            if p not in team.members:
                v.append(f"{path}.attendees: {p!r} is not a member of {t} (rule 3)")
                continue
            if slot not in people[p].available:
                v.append(f"{path}.attendees: {p} is not available in {slot} (rule 2)")
                continue
            meeting_cost += pence(people[p].available[slot])
            activities[(p, slot)].append(f"team {t}")
        cost_p += meeting_cost
        if len(att) < team.quorum:
            v.append(f"{path}: {len(att)} attendees, below {t}'s quorum of {team.quorum} (rule 3)")
        expected_absent = {m for m in team.members if m not in att and slot in people[m].available}
        absences += len(expected_absent)
        if set(absent) != expected_absent:
            v.append(
                f"{path}.absent: {sorted(absent)} but available non-attending members are {sorted(expected_absent)}"
            )
        given = _num(ts.get("cost"))
        if given is None or abs(given - meeting_cost / 100) > TOLERANCE:
            v.append(
                f"{path}.cost: {ts.get('cost')!r} but its attendees' cost is {meeting_cost / 100:.2f}"
            )
        meetings[(t, slot)] = att

    has_plan = status in ("optimal", "feasible")
    if not has_plan:
        v.append(f"status: {status!r} is not a plan (no rota to check)")

    # Rule 1: one protected activity per person per slot.
    for (p, slot), what in activities.items():
        if len(what) > 1:
            v.append(
                f"{p} has {len(what)} protected activities in {slot}: {', '.join(what)} (rule 1)"
            )

    # Rule 4: caps.
    away: Counter[tuple[str, str]] = Counter()
    for p, slot in activities:
        dept = people[p].department
        if dept is not None:
            away[(dept, slot)] += 1
    caps_by_dept: dict[str, list] = defaultdict(list)
    for cap in problem.caps:
        caps_by_dept[cap.department].append(cap)
    for (dept, slot), n in away.items():
        for cap in caps_by_dept.get(dept, ()):
            if (cap.slots is None or slot in cap.slots) and n > cap.max_away:
                v.append(f"{n} of {dept} away in {slot}, above its cap of {cap.max_away} (rule 4)")

    # Rule 5: per day, per week, window max; and window counts for shortfall.
    per_day: Counter[tuple[str, object]] = Counter()
    per_week: Counter[tuple[str, object]] = Counter()
    slot_by_id = {s.id: s for s in problem.slots}
    for (p, slot), what in activities.items():
        start = slot_by_id[slot].start
        per_day[(p, start.date())] += len(what)
        per_week[(p, tuple(start.isocalendar())[:2])] += len(what)
    for (p, day), n in per_day.items():
        mx = people[p].max_per_day
        if mx is not None and n > mx:
            v.append(f"{p} has {n} protected activities on {day}, above max_per_day {mx} (rule 5)")
    for (p, wk), n in per_week.items():
        mx = people[p].max_per_week
        if mx is not None and n > mx:
            v.append(
                f"{p} has {n} protected activities in ISO week {wk[1]} of {wk[0]}, above max_per_week {mx} (rule 5)"
            )

    def in_window(slot: str, w: Any) -> bool:
        return w.start <= slot_by_id[slot].start.date() <= w.end

    short_total = 0
    short_windows: dict[tuple[str, str, int], tuple[int, int]] = {}
    slots_of: dict[str, list[str]] = defaultdict(list)  # commitment -> session slots
    for (p, slot), cid in session_keys.items():
        slots_of[cid].append(slot)
    team_slots: dict[str, list[str]] = defaultdict(list)
    for tid, slot in meetings:
        team_slots[tid].append(slot)
    for c in problem.commitments:
        mine = slots_of.get(c.id, [])
        for wi, w in enumerate(c.windows):
            n = sum(1 for slot in mine if in_window(slot, w))
            if w.max is not None and n > w.max:
                v.append(
                    f"commitment {c.id} window {wi} has {n} sessions, above its max {w.max} (rule 5)"
                )
            if n < w.sessions:
                short_total += w.sessions - n
                short_windows[("commitment", c.id, wi)] = (w.sessions, n)
    for t in problem.teams:
        mine = team_slots.get(t.id, [])
        for wi, w in enumerate(t.windows):
            n = sum(1 for slot in mine if in_window(slot, w))
            if w.max is not None and n > w.max:
                v.append(
                    f"team {t.id} window {wi} has {n} sessions, above its max {w.max} (rule 5)"
                )
            if n < w.sessions:
                short_total += w.sessions - n
                short_windows[("team", t.id, wi)] = (w.sessions, n)

    # Rule 6: pins.
    for i, pin in enumerate(problem.pinned):
        if pin.team is not None:
            ok = (pin.team, pin.slot) in meetings and (
                pin.person is None or pin.person in meetings[(pin.team, pin.slot)]
            )
        else:
            c = session_keys.get((pin.person, pin.slot))  # type: ignore[arg-type]
            ok = c is not None and (pin.commitment is None or c == pin.commitment)
        if not ok:
            v.append(
                f"pinned[{i}] ({pin.person or pin.team} in {pin.slot}) is not in the plan (rule 6)"
            )

    # Soft terms.
    churn = 0
    for e in problem.previous:
        if e.team is not None:
            kept = (e.team, e.slot) in meetings and (
                e.person is None or e.person in meetings[(e.team, e.slot)]
            )
        else:
            kept = (e.person, e.slot) in session_keys
        churn += not kept
    avoided = sum(len(what) for (p, slot), what in activities.items() if slot in people[p].avoid)
    w = problem.weights
    terms_p = {
        "cost": cost_p,
        "shortfall": short_total * pence(w.shortfall),
        "absence": absences * pence(w.absence),
        "churn": churn * pence(w.churn),
        "avoid": avoided * pence(w.avoid),
    }
    objective = sum(terms_p.values()) / 100

    if has_plan:
        _compare_numbers(solution, terms_p, objective, v)
        totals = {
            "backfill_cost": cost_p / 100,
            "shortfall_sessions": short_total,
            "absences": absences,
            "churn": churn,
            "avoided": avoided,
        }
        given_totals = solution.get("totals")
        if isinstance(given_totals, dict):
            for k, val in totals.items():
                g = _num(given_totals.get(k))
                if g is None or abs(g - val) > TOLERANCE:
                    v.append(f"totals.{k}: {given_totals.get(k)!r} but recomputed {val:g}")
        else:
            v.append("totals: missing")
        _compare_shortfalls(solution, short_windows, v)
    return CheckResult(not v, v, round(objective, 2))


def _compare_numbers(
    solution: dict, terms_p: dict[str, int], objective: float, v: list[str]
) -> None:
    given_obj = _num(solution.get("objective"))
    if given_obj is None or abs(given_obj - objective) > TOLERANCE:
        v.append(f"objective: {solution.get('objective')!r} but recomputed {objective:.2f}")
    terms = solution.get("objective_terms")
    if not isinstance(terms, dict):
        v.append("objective_terms: missing")
        return
    total = 0.0
    for k in TERMS:
        g = _num(terms.get(k))
        if g is None or abs(g - terms_p[k] / 100) > TOLERANCE:
            v.append(f"objective_terms.{k}: {terms.get(k)!r} but recomputed {terms_p[k] / 100:.2f}")
        total += g or 0.0
    if given_obj is not None and abs(total - given_obj) > TOLERANCE:
        v.append(f"objective_terms sum to {total:.2f}, not the objective {given_obj:.2f}")
    bound = _num(solution.get("bound"))
    if bound is not None and given_obj is not None and bound > given_obj + TOLERANCE:
        v.append(f"bound {bound:.2f} is above the objective {given_obj:.2f}")
    if (
        solution.get("status") == "optimal"
        and bound is not None
        and given_obj is not None
        and abs(bound - given_obj) > TOLERANCE
    ):
        v.append(f"status optimal but bound {bound:.2f} differs from objective {given_obj:.2f}")


def _compare_shortfalls(
    solution: dict, expected: dict[tuple[str, str, int], tuple[int, int]], v: list[str]
) -> None:
    given = solution.get("shortfalls") or []
    seen = set()
    for i, sf in enumerate(given if isinstance(given, list) else []):
        if not isinstance(sf, dict):
            v.append(f"shortfalls[{i}]: expected an object")
            continue
        kind = "commitment" if sf.get("commitment") is not None else "team"
        key = (kind, sf.get(kind), sf.get("window"))
        if not isinstance(key[1], str) or not isinstance(key[2], int) or isinstance(key[2], bool):
            v.append(f"shortfalls[{i}]: {kind} and window must be an id and a number")
            continue
        if key not in expected:
            v.append(f"shortfalls[{i}]: {kind} {key[1]} window {key[2]} is not short")
            continue
        seen.add(key)
        req, n = expected[key]  # type: ignore[index]
        if sf.get("required") != req or sf.get("scheduled") != n:
            v.append(
                f"shortfalls[{i}]: required/scheduled {sf.get('required')}/{sf.get('scheduled')} but recomputed {req}/{n}"
            )
        if sf.get("reason") not in ("unavailable", "constrained", "cost"):
            v.append(f"shortfalls[{i}].reason: unknown reason {sf.get('reason')!r}")
    for key in expected:
        if key not in seen:
            v.append(f"shortfalls: {key[0]} {key[1]} window {key[2]} is short but not listed")
