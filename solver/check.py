"""Re-verify a solution document against its problem from first principles: every hard
rule, every soft term and the objective recomputed (money to the penny, tolerance 0.01).

Deliberately independent of the model builder and of `solver.plan`: it reads the
solution as a rota manager's list of sessions and recounts everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from solver.model import (
    FAIRNESS,
    SOLUTION_FORMAT,
    STATUSES,
    TERMS,
    Problem,
    Window,
    pence,
    per_thousand,
)
from solver.rules import Roster, breaches

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


def _has(key: object, known: Container[str]) -> TypeGuard[str]:
    """``key in known`` for keys from an untrusted document (a list is not an id)."""
    return isinstance(key, str) and key in known


def check(problem: Problem, solution: Mapping[str, Any]) -> CheckResult:
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
    roster = Roster(problem)
    roster_meetings: dict[tuple[str, int], tuple[str, ...]] = {}

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
        if not _has(p, people):
            v.append(f"{path}.person: unknown person {p!r}")
            continue
        if not _has(slot, slot_pos):
            v.append(f"{path}.slot: unknown slot {slot!r}")
            continue
        if not _has(c, commitments):
            v.append(f"{path}.commitment: unknown commitment {c!r}")
            continue
        if commitments[c].person != p:
            v.append(f"{path}: commitment {c} belongs to {commitments[c].person}, not {p} (rule 6)")
        if slot in people[p].available:  # rule 2 is judged below, with the other hard rules
            cost = pence(people[p].available[slot])
            cost_p += cost
            given = _num(s.get("cost"))
            if given is None or abs(given - cost / 100) > TOLERANCE:
                v.append(
                    f"{path}.cost: {s.get('cost')!r} but {p}'s cost in {slot} is {cost / 100:.2f}"
                )
        if (p, slot) in session_keys:
            v.append(f"{path}: a second session for {p} in {slot} (rule 6: attributed once)")
        else:
            roster.where[("session", p, slot_pos[slot])] = path
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
        if not _has(t, teams):
            v.append(f"{path}.team: unknown team {t!r}")
            continue
        if not _has(slot, slot_pos):
            v.append(f"{path}.slot: unknown slot {slot!r}")
            continue
        team = teams[t]
        if (t, slot) in meetings:
            v.append(f"{path}: {t} meets twice in {slot} (rule 3)")
            continue
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
            if p not in team.members or slot not in people[p].available:
                continue  # rules 3 and 2, judged below
            meeting_cost += pence(people[p].available[slot])
            activities[(p, slot)].append(f"team {t}")
        cost_p += meeting_cost
        for p in dict.fromkeys(attendees):
            if p not in people:
                v.append(f"{path}.attendees: {p!r} is not a member of {t} (rule 3)")
        roster_meetings[(t, slot_pos[slot])] = tuple(
            p for p in dict.fromkeys(attendees) if p in people
        )
        roster.where[("team", t, slot_pos[slot])] = path
        expected_absent = {m for m in team.members if m not in att and slot in people[m].available}
        absences += len(expected_absent)
        if set(absent) != expected_absent:
            v.append(
                f"{path}.absent: {sorted(absent)} but available non-attending members are "
                f"{sorted(expected_absent)}"
            )
        given = _num(ts.get("cost"))
        if given is None or abs(given - meeting_cost / 100) > TOLERANCE:
            v.append(
                f"{path}.cost: {ts.get('cost')!r} but its attendees' cost is "
                f"{meeting_cost / 100:.2f}"
            )
        meetings[(t, slot)] = att

    has_plan = status in ("optimal", "feasible")
    if not has_plan:
        v.append(f"status: {status!r} is not a plan (no rota to check)")

    # The hard rules, each written once in `solver.rules` (alternatives uses them too).
    for (p, slot), c in session_keys.items():
        roster.add_session(p, c, slot_pos[slot])
    for (t, s), attending in roster_meetings.items():
        roster.add_meeting(t, s, attending)
    v.extend(b.text for b in breaches(roster))

    slot_by_id = {s.id: s for s in problem.slots}

    def in_window(slot: str, w: Window) -> bool:
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
            if n < w.sessions:
                short_total += w.sessions - n
                short_windows[("commitment", c.id, wi)] = (w.sessions, n)
    for t in problem.teams:
        mine = team_slots.get(t.id, [])
        for wi, w in enumerate(t.windows):
            n = sum(1 for slot in mine if in_window(slot, w))
            if n < w.sessions:
                short_total += w.sessions - n
                short_windows[("team", t.id, wi)] = (w.sessions, n)

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
    weights = problem.weights
    terms_p = {
        "cost": cost_p,
        "shortfall": short_total * pence(weights.shortfall),
        "absence": absences * pence(weights.absence),
        "churn": churn * pence(weights.churn),
        "avoid": avoided * pence(weights.avoid),
    }
    groups = _groups(problem, short_windows)
    if groups is not None:
        worst = max((per_thousand(sh, ent) for _, ent, sh in groups), default=0)
        terms_p[FAIRNESS] = worst * pence(weights.fairness)
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
        if groups is not None:
            _compare_groups(solution, groups, v)
    return CheckResult(not v, v, round(objective, 2))


def _groups(
    problem: Problem, short_windows: dict[tuple[str, str, int], tuple[int, int]]
) -> list[tuple[str, int, int]] | None:
    """(group, entitled, short) per group the problem names (None when it names none),
    counted from the problem's people and commitments and the recounted windows."""
    members: dict[str, list[str]] = defaultdict(list)
    for person in problem.people:
        for g in person.groups:
            members[g].append(person.id)
    if not members:
        return None
    entitled: dict[str, int] = defaultdict(int)
    short: dict[str, int] = defaultdict(int)
    for c in problem.commitments:
        for wi, win in enumerate(c.windows):
            entitled[c.person] += win.sessions
            req, n = short_windows.get(("commitment", c.id, wi), (0, 0))
            short[c.person] += req - n
    return [
        (g, sum(entitled[p] for p in ps), sum(short[p] for p in ps))
        for g, ps in sorted(members.items())
    ]


def _compare_groups(
    solution: Mapping[str, Any], groups: list[tuple[str, int, int]], v: list[str]
) -> None:
    given = solution.get("groups")
    if not isinstance(given, list):
        v.append("groups: missing (the problem names groups)")
        return
    seen: dict[str, Any] = {}
    for i, g in enumerate(given):
        if not isinstance(g, dict) or not isinstance(g.get("group"), str):
            v.append(f"groups[{i}]: expected an object with a group name")
            continue
        seen[g["group"]] = g
    for name, entitled, short in groups:
        g = seen.pop(name, None)
        if g is None:
            v.append(f"groups: {name} is not listed")
        elif g.get("entitled") != entitled or g.get("short") != short:
            v.append(
                f"groups: {name} entitled/short {g.get('entitled')}/{g.get('short')} but "
                f"recomputed {entitled}/{short}"
            )
    for name in seen:
        v.append(f"groups: {name} is not a group of the problem")


def _compare_numbers(
    solution: Mapping[str, Any], terms_p: dict[str, int], objective: float, v: list[str]
) -> None:
    given_obj = _num(solution.get("objective"))
    if given_obj is None or abs(given_obj - objective) > TOLERANCE:
        v.append(f"objective: {solution.get('objective')!r} but recomputed {objective:.2f}")
    terms = solution.get("objective_terms")
    if not isinstance(terms, dict):
        v.append("objective_terms: missing")
        return
    total = 0.0
    for k in (*TERMS, FAIRNESS) if FAIRNESS in terms_p else TERMS:
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
    solution: Mapping[str, Any], expected: dict[tuple[str, str, int], tuple[int, int]], v: list[str]
) -> None:
    given = solution.get("shortfalls") or []
    seen = set()
    for i, sf in enumerate(given if isinstance(given, list) else []):
        if not isinstance(sf, dict):
            v.append(f"shortfalls[{i}]: expected an object")
            continue
        kind = "commitment" if sf.get("commitment") is not None else "team"
        ident, window = sf.get(kind), sf.get("window")
        if not isinstance(ident, str) or not isinstance(window, int) or isinstance(window, bool):
            v.append(f"shortfalls[{i}]: {kind} and window must be an id and a number")
            continue
        key = (kind, ident, window)
        if key not in expected:
            v.append(f"shortfalls[{i}]: {kind} {ident} window {window} is not short")
            continue
        seen.add(key)
        req, n = expected[key]
        if sf.get("required") != req or sf.get("scheduled") != n:
            v.append(
                f"shortfalls[{i}]: required/scheduled {sf.get('required')}/{sf.get('scheduled')} "
                f"but recomputed {req}/{n}"
            )
        if sf.get("reason") not in ("unavailable", "constrained", "cost"):
            v.append(f"shortfalls[{i}].reason: unknown reason {sf.get('reason')!r}")
    for key in expected:
        if key not in seen:
            v.append(f"shortfalls: {key[0]} {key[1]} window {key[2]} is short but not listed")
