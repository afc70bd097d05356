"""Stability of a re-solve: how much of a published plan moves when a few people take leave.

    python -m bench.resolve_bench --size M --seed 1 --time-limit 60 --workers 2

1. Solve the instance with CP-SAT and publish the plan (its sessions and team sessions become
   `previous`).
   The churn weight is sel-time's (`--churn`, default 200, `config.CHURN_WEIGHT`); the
   re-solve is repeated at the solver-io default of 50 for comparison.
2. Give 5 % of people a new week of leave: remove their available slots in one week in which
   they were working.
3. Re-solve with `previous` (churn priced, the published plan as the hint), and, for
   comparison, solve the changed instance from scratch (no `previous`).

A previous entry *lost its slot* when it cannot stay: an individual session whose person is
no longer available then, or a team session whose available members fell below quorum. It
*moved* when the new plan drops it (no session for that person, or that team, in that slot) or
changes it (same person and slot, another commitment). Target: moved ≤ 1.5 × lost.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

from bench.generate import SIZES, generate
from bench.measure import Run, run_method
from bench.solver_bench import (
    OUT,
    check_solution,
    check_text,
    fmt,
    instance_summary,
    load_text,
    solver_digest,
)

log = logging.getLogger(__name__)
TARGET_RATIO = 1.5
CHURN = 200.0  # sel-time's weights.churn for re-solves (config.CHURN_WEIGHT)
SPEC_CHURN = 50.0  # the solver-io default


def publish(solution: dict[str, Any]) -> list[dict[str, str]]:
    """The plan as `previous` entries: (person, commitment, slot) and (team, slot)."""
    entries = [{"person": s["person"], "commitment": s["commitment"], "slot": s["slot"]}
               for s in solution["sessions"]]
    entries += [{"team": t["team"], "slot": t["slot"]} for t in solution["team_sessions"]]
    return entries


def add_leave(problem: dict[str, Any], share: float, seed: int) -> list[tuple[str, str]]:
    """Give `share` of people a new week of leave, in place: remove their available (and
    avoided) slots in one week in which they still work. Returns (person id, Monday) pairs."""
    rng = random.Random(f"sel-time-resolve/{seed}")
    people = problem["people"]
    chosen = rng.sample(range(len(people)), max(1, round(share * len(people))))
    changes = []
    for i in sorted(chosen):
        person = people[i]
        weeks = sorted({_monday(s) for s in person["available"]})
        if not weeks:
            continue
        week = rng.choice(weeks)
        person["available"] = {s: c for s, c in person["available"].items()
                               if _monday(s) != week}
        if "avoid" in person:
            person["avoid"] = [s for s in person["avoid"] if s in person["available"]]
        changes.append((person["id"], week))
    return changes


def _monday(slot_id: str) -> str:
    day = date.fromisoformat(slot_id[:10])
    return date.fromordinal(day.toordinal() - day.weekday()).isoformat()


def lost_entries(problem: dict[str, Any], previous: list[dict[str, str]]) -> list[dict[str, str]]:
    """Previous entries that cannot stay in the changed problem."""
    available = {p["id"]: p["available"] for p in problem["people"]}
    teams = {t["id"]: t for t in problem["teams"]}
    lost = []
    for e in previous:
        if "team" in e:
            team = teams[e["team"]]
            here = sum(1 for m in team["members"] if e["slot"] in available[m])
            if here < team["quorum"]:
                lost.append(e)
        elif e["slot"] not in available[e["person"]]:
            lost.append(e)
    return lost


@dataclass
class Movement:
    dropped: int
    changed: int
    team_dropped: int

    @property
    def moved(self) -> int:
        return self.dropped + self.changed + self.team_dropped


def movement(previous: list[dict[str, str]], solution: dict[str, Any]) -> Movement:
    """Compare a new plan with the published one, entry by entry."""
    now = {(s["person"], s["slot"]): s["commitment"] for s in solution["sessions"]}
    now_teams = {(t["team"], t["slot"]): set(t["attendees"]) for t in solution["team_sessions"]}
    dropped = changed = team_dropped = 0
    for e in previous:
        if "team" in e:
            team_dropped += (e["team"], e["slot"]) not in now_teams
        elif (e["person"], e["slot"]) not in now:
            dropped += 1
        elif now[(e["person"], e["slot"])] != e["commitment"]:
            changed += 1
    return Movement(dropped, changed, team_dropped)


def attendance_changes(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Members whose attendance at a team session that stayed put changed."""
    was = {(t["team"], t["slot"]): set(t["attendees"]) for t in before["team_sessions"]}
    n = 0
    for t in after["team_sessions"]:
        old = was.get((t["team"], t["slot"]))
        if old is not None:
            n += len(old ^ set(t["attendees"]))
    return n


def solve_file(problem: dict[str, Any], name: str, args: argparse.Namespace) -> Run:
    path = OUT / f"{name}.problem.json"
    path.write_text(json.dumps(problem, separators=(",", ":")))
    print(f"… {name}: solving with cp-sat (time limit {args.time_limit:g} s)", flush=True)
    run = run_method(path, "cp-sat", time_limit=args.time_limit, workers=args.workers,
                     seed=args.seed, out_path=OUT / f"{name}.solution.json")
    if not run.ok:
        raise SystemExit(f"{name}: solver failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    sol = run.solution
    print(f"   {sol['status']}, objective {fmt(sol['objective'], 'gbp')}, "
          f"{run.timings.get('solve_call_seconds', 0):.1f} s", flush=True)
    return run


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resolve_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--share", type=float, default=0.05, help="share of people given leave")
    parser.add_argument("--churn", type=float, default=CHURN,
                        help="weights.churn of the re-solves (sel-time's CHURN_WEIGHT, 200)")
    parser.add_argument("--no-spec-churn", dest="spec_churn", action="store_false",
                        help="skip the re-solve at the solver's default churn weight (50)")
    parser.add_argument("--no-control", dest="control", action="store_false",
                        help="skip the control re-solve without new leave")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    OUT.mkdir(exist_ok=True)
    from solver.io import parse_problem

    started = datetime.now(timezone.utc)
    base = generate(args.size, args.seed)
    base["weights"] = {**base.get("weights", {}), "churn": args.churn}
    print(f"sel-time re-solve benchmark · size {args.size} · seed {args.seed} · time limit "
          f"{args.time_limit:g} s per solve · {args.workers} workers · "
          f"{started:%Y-%m-%d %H:%M} UTC")
    print(f"instance: {instance_summary(base)}")
    print(f"weights.churn {args.churn:g} "
          f"(sel-time's default; the solver-io default is {SPEC_CHURN:g})")
    print(f"machine: {load_text()}; solver sources {solver_digest()}")
    stem = f"resolve-{args.size}-seed{args.seed}"

    published = solve_file(base, f"{stem}-0-published", args).solution
    print(f"   published plan: {check_text(check_solution(parse_problem(base), published))}, "
          f"bound {fmt(published.get('bound'), 'gbp')}")
    previous = publish(published)

    changed = copy.deepcopy(base)
    leave = add_leave(changed, args.share, args.seed)
    lost = lost_entries(changed, previous)
    print(f"new leave: {len(leave)} people ({100 * args.share:g} %), one week each; "
          f"{len(lost)} of {len(previous)} published entries lost their slot")

    with_previous = copy.deepcopy(changed)
    with_previous["previous"] = previous
    problems = {"re-solve (previous)": with_previous}
    if args.spec_churn and args.churn != SPEC_CHURN:
        # the same re-solve priced at the solver's default churn weight, for comparison
        at_spec = copy.deepcopy(with_previous)
        at_spec["weights"] = {**at_spec["weights"], "churn": SPEC_CHURN}
        problems[f"churn {SPEC_CHURN:g}"] = at_spec
    problems["from scratch"] = changed
    if args.control:
        # the same re-solve without the new leave: what moves only because the solver finds a
        # cheaper plan than the published one
        control = copy.deepcopy(base)
        control["previous"] = previous
        problems["control: no new leave"] = control
    names = {"re-solve (previous)": "1-resolve", "from scratch": "2-scratch",
             "control: no new leave": "3-control", f"churn {SPEC_CHURN:g}": "4-spec-churn"}
    runs = {k: solve_file(pb, f"{stem}-{names[k]}", args) for k, pb in problems.items()}
    # each plan checked against the problem it solved; then priced with `previous` by the checker
    own = {k: parse_problem(pb) for k, pb in problems.items()}
    checked = {k: check_solution(own[k], r.solution) for k, r in runs.items()}
    with_prev = {k: own[k] if problems[k].get("previous") else own["re-solve (previous)"]
                 for k in runs}  # from scratch is priced on the changed problem with previous
    priced = {k: check_solution(with_prev[k], r.solution)["objective"] for k, r in runs.items()}

    print()
    n_lost = len(lost)
    widths = [max(16, len(k) + 2) for k in runs]
    lines = [f"{'':38}" + "".join(f"{k:>{w}}" for k, w in zip(runs, widths))]
    moves = {k: movement(previous, r.solution) for k, r in runs.items()}

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:38}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths)))

    keys = list(runs)
    row("status", [runs[k].solution["status"] for k in keys])
    row("solve() wall s", [fmt(runs[k].timings.get("solve_call_seconds"), "s") for k in keys])
    lost_of = {k: n_lost for k in keys}
    if "control: no new leave" in runs:
        lost_of["control: no new leave"] = 0
    row("published entries lost their slot", [str(lost_of[k]) for k in keys])
    row("sessions moved (dropped or changed)", [str(moves[k].moved) for k in keys])
    row("  individual dropped", [str(moves[k].dropped) for k in keys])
    row("  individual, other commitment", [str(moves[k].changed) for k in keys])
    row("  team sessions dropped", [str(moves[k].team_dropped) for k in keys])
    row("moved / lost", [fmt(moves[k].moved / lost_of[k] if lost_of[k] else None, "x")
                         for k in keys])
    row("moved, matching on slot only (churn)",
        [str(moves[k].dropped + moves[k].team_dropped) for k in keys])
    row("  / lost", [fmt((moves[k].dropped + moves[k].team_dropped) / lost_of[k]
                         if lost_of[k] else None, "x") for k in keys])
    row("team attendance changes (kept slots)",
        [str(attendance_changes(published, runs[k].solution)) for k in keys])
    row("objective (solver's own)", [fmt(runs[k].solution["objective"], "gbp") for k in keys])
    row("objective priced with previous", [fmt(priced[k], "gbp") for k in keys])
    row("  backfill cost", [fmt(runs[k].solution["totals"]["backfill_cost"], "gbp")
                            for k in keys])
    row("  shortfall sessions", [str(runs[k].solution["totals"]["shortfall_sessions"])
                                 for k in keys])
    row("  churn (solver's totals)", [str(runs[k].solution["totals"]["churn"]) for k in keys])
    row("check (own problem)", [check_text(checked[k]) for k in keys])
    print("\n".join(lines))
    print(f"\nafter the run: {load_text()}")
    m = moves["re-solve (previous)"]
    for label, moved in (("dropped or changed", m.moved),
                         ("slot-only matching", m.dropped + m.team_dropped)):
        met = n_lost > 0 and moved <= TARGET_RATIO * n_lost
        print(f"target: moved ≤ {TARGET_RATIO} × lost ({label}): [{'met' if met else 'MISSED'}] "
              f"{moved} moved, {n_lost} lost" + (f" (× {moved / n_lost:.2f})" if n_lost else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "size": args.size, "seed": args.seed, "time_limit": args.time_limit,
            "started": started.isoformat(), "leave": leave, "previous": len(previous),
            "lost": n_lost, "moves": {k: vars(m) | {"moved": m.moved} for k, m in moves.items()},
            "checked": checked, "priced_with_previous": priced,
            "solutions": {k: {"status": r.solution["status"],
                              "objective": r.solution["objective"],
                              "solve_seconds": r.timings.get("solve_call_seconds"),
                              "totals": r.solution["totals"]} for k, r in runs.items()}},
            indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
