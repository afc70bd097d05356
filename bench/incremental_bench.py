"""Incremental re-solve against a full re-solve after one leader's new week of leave.

    python -m bench.incremental_bench --size M --seed 1 [--time-limit 60] [--workers 2]

1. Solve the instance with CP-SAT and publish the plan (its sessions and team sessions become
   `previous`), at sel-time's churn weight (`--churn`, default 200) as `resolve_bench` does.
   `--reuse` takes the published plan of an earlier run of the same size, seed and churn
   from `bench/out/` instead (it is re-checked against the instance first).
2. Give ONE leader (seeded choice among those with published sessions) a new week of leave:
   remove their available slots in one week in which they have published sessions
   (`--team`: a leader and week with a team session they attend, so that a team is freed).
3. (a) re-solve the whole changed problem with `previous` (`solver.solve`), the baseline;
   (b) re-solve incrementally with that leader touched (`solver.incremental.resolve`), the
   published plan being the problem's `previous` (as sel-time builds problems: team entries
   name no attendees, so fixed team sessions choose theirs again);
   (c) the same with the published solution as the plan (fixed team sessions keep their
   attendees). Each runs in its own child process (`bench.measure`); the wall time is the
   solve call.

Printed: wall time of each and (b)/(a); sessions moved against sessions that lost their slot
(counted as `resolve_bench` counts them); objective of (b) against (a). Targets: (b) under
5 s, (b) moved ≤ 1.2 × lost, (b)'s objective within 0.5 % of (a)'s.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

from bench.generate import SIZES, generate
from bench.measure import run_method
from bench.resolve_bench import CHURN, _monday, attendance_changes, lost_entries, movement, publish
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
TARGET_SECONDS = 5.0
TARGET_MOVED = 1.2
TARGET_OBJECTIVE = 0.005


def one_leave(problem: dict[str, Any], published: dict[str, Any], seed: int,
              team: bool = False) -> tuple[str, str]:
    """Give one leader with published sessions a new week of leave, in place: remove their
    available (and avoided) slots in one week in which they have a published session or
    team attendance (with `team`, a week in which they attend a team session). Returns
    (person id, Monday)."""
    rng = random.Random(f"sel-time-incremental/{seed}")
    weeks: dict[str, set[str]] = {}
    for s in published["sessions"] if not team else ():
        weeks.setdefault(s["person"], set()).add(_monday(s["slot"]))
    for t in published["team_sessions"]:
        for p in t["attendees"]:
            weeks.setdefault(p, set()).add(_monday(t["slot"]))
    leader = rng.choice(sorted(weeks))
    week = rng.choice(sorted(weeks[leader]))
    person = next(p for p in problem["people"] if p["id"] == leader)
    person["available"] = {s: c for s, c in person["available"].items() if _monday(s) != week}
    if "avoid" in person:
        person["avoid"] = [s for s in person["avoid"] if s in person["available"]]
    return leader, week


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incremental_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="per solve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--churn", type=float, default=CHURN,
                        help="weights.churn (sel-time's CHURN_WEIGHT, 200)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the published plan of an earlier run from bench/out/")
    parser.add_argument("--team", action="store_true",
                        help="choose a leader and week with a team session they attend")
    parser.add_argument("--no-departments", dest="departments", action="store_false",
                        help="(b) and (c) leave department-mates of the free people fixed")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    OUT.mkdir(exist_ok=True)
    from solver.io import parse_problem

    started = datetime.now(timezone.utc)
    base = generate(args.size, args.seed)
    base["weights"] = {**base.get("weights", {}), "churn": args.churn}
    print(f"sel-time incremental re-solve benchmark · size {args.size} · seed {args.seed} · "
          f"time limit {args.time_limit:g} s per solve · {args.workers} workers · "
          f"{started:%Y-%m-%d %H:%M} UTC")
    print(f"instance: {instance_summary(base)}; weights.churn {args.churn:g}")
    print(f"machine: {load_text()}; solver sources {solver_digest()}")
    stem = f"incremental-{args.size}-seed{args.seed}-churn{args.churn:g}"

    pub_path = OUT / f"{stem}-0-published.solution.json"
    published = None
    if args.reuse and pub_path.exists():
        published = json.loads(pub_path.read_text())
        verdict = check_solution(parse_problem(base), published)
        if not verdict["ok"]:
            print(f"   {pub_path.name} does not hold for this instance; solving again")
            published = None
        else:
            print(f"published plan reused from {pub_path}")
    if published is None:
        path = OUT / f"{stem}-0-published.problem.json"
        path.write_text(json.dumps(base, separators=(",", ":")))
        print(f"… publishing: solving with cp-sat (time limit {args.time_limit:g} s)", flush=True)
        run = run_method(path, "cp-sat", time_limit=args.time_limit, workers=args.workers,
                         seed=args.seed, out_path=pub_path)
        if not run.ok:
            raise SystemExit(f"publish failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        published = run.solution
        print(f"   {run.timings.get('solve_call_seconds', 0):.1f} s")
    print(f"published plan: {published['status']}, objective {fmt(published['objective'], 'gbp')}"
          f", {check_text(check_solution(parse_problem(base), published))}")
    previous = publish(published)

    changed = copy.deepcopy(base)
    leader, week = one_leave(changed, published, args.seed, team=args.team)
    changed["previous"] = previous
    lost = lost_entries(changed, previous)
    n_lost = len(lost)
    print(f"new leave: {leader}, the week of {week}; {n_lost} of {len(previous)} published "
          f"entries lost their slot")
    stem = stem + ("-team" if args.team else "") + ("" if args.departments else "-nodept")
    path = OUT / f"{stem}-1-changed.problem.json"
    path.write_text(json.dumps(changed, separators=(",", ":")))

    runs = {}
    plans = (("full", "cp-sat", (), None),
             ("incremental", "incremental", (leader,), None),
             ("attendees", "incremental", (leader,), pub_path))
    for key, method, people, prev_path in plans:
        print(f"… {key}: {method}" + (f", touched {leader}" if people else "")
              + (", the published solution as the plan" if prev_path else ""), flush=True)
        run = run_method(path, method, time_limit=args.time_limit, workers=args.workers,
                         seed=args.seed, out_path=OUT / f"{stem}-2-{key}.solution.json",
                         people=people, previous=prev_path, departments=args.departments)
        if not run.ok:
            raise SystemExit(f"{key} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        runs[key] = run
    problem = parse_problem(changed)
    keys = list(runs)
    checked = {k: check_solution(problem, r.solution) for k, r in runs.items()}
    moves = {k: movement(previous, r.solution) for k, r in runs.items()}
    secs = {k: r.timings.get("solve_call_seconds") for k, r in runs.items()}
    obj = {k: r.solution["objective"] for k, r in runs.items()}
    sol = {k: r.solution for k, r in runs.items()}

    print()
    heads = ["(a) full", "(b) incremental", "(c) + attendees", "(b)/(a)", "(c)/(a)"]
    lines = [f"{'':40}" + "".join(f"{h:>17}" for h in heads)]

    def row(label: str, values: list[str], ratios: Sequence[str] = ()) -> None:
        lines.append(f"{label:40}" + "".join(f"{v:>17}" for v in [*values, *ratios]))

    def ratio(d: dict[str, Any]) -> list[str]:
        return [fmt(d[k] / d["full"], "x") if d["full"] else "–" for k in keys[1:]]

    row("status", [sol[k]["status"] for k in keys])
    row("solve() wall s", [fmt(secs[k], "s") for k in keys], ratio(secs))
    row("  child process s", [fmt(runs[k].process_seconds, "s") for k in keys])
    row("  peak RSS", [fmt(runs[k].peak_rss_mb, "mb") for k in keys])
    row("published entries lost their slot", [str(n_lost)] * len(keys))
    row("sessions moved (dropped or changed)", [str(moves[k].moved) for k in keys])
    row("  individual dropped", [str(moves[k].dropped) for k in keys])
    row("  individual, other commitment", [str(moves[k].changed) for k in keys])
    row("  team sessions dropped", [str(moves[k].team_dropped) for k in keys])
    row("moved / lost", [fmt(moves[k].moved / n_lost if n_lost else None, "x") for k in keys])
    row("team attendance changes (kept slots)",
        [str(attendance_changes(published, sol[k])) for k in keys])
    row("objective", [fmt(obj[k], "gbp") for k in keys], ratio(obj))
    for term in ("backfill_cost", "shortfall_sessions", "absences", "churn"):
        kind = "gbp" if term == "backfill_cost" else ""
        row(f"  {term}", [fmt(sol[k]["totals"][term], kind) if kind else
                          str(sol[k]["totals"][term]) for k in keys])
    row("check", [check_text(checked[k]) for k in keys])
    print("\n".join(lines))
    print()
    for k in keys[1:]:
        inc = sol[k]["solver"].get("incremental", {})
        print(f"{k}: {len(inc.get('free_people', []))} people and "
              f"{len(inc.get('free_teams', []))} teams free, {inc.get('open_meetings')} fixed "
              f"meetings choosing attendees, local model {inc.get('local_size')} literals "
              f"{inc.get('local_status')} in {inc.get('local_seconds')} s (build "
              f"{inc.get('build_seconds')} s), widened {inc.get('widened')}")
    print(f"after the run: {load_text()}")
    for k in keys[1:]:
        diff = (obj[k] - obj["full"]) / abs(obj["full"]) if obj["full"] else 0.0
        m = moves[k].moved
        targets = [
            (f"under {TARGET_SECONDS:g} s", secs[k] < TARGET_SECONDS,
             f"{secs[k]:.2f} s (full {secs['full']:.2f} s, × {secs[k] / secs['full']:.3f})"),
            (f"moved ≤ {TARGET_MOVED} × lost", n_lost > 0 and m <= TARGET_MOVED * n_lost,
             f"{m} moved, {n_lost} lost" + (f" (× {m / n_lost:.2f})" if n_lost else "")
             + f"; full {moves['full'].moved}"),
            (f"objective within {100 * TARGET_OBJECTIVE:g} % of full",
             abs(diff) <= TARGET_OBJECTIVE,
             f"{100 * diff:+.4f} % (£{obj[k] - obj['full']:+,.2f})"),
            ("plan holds, check agrees", checked[k]["ok"] and checked[k]["agrees"], ""),
        ]
        for label, met, text in targets:
            print(f"target ({k}): {label}: [{'met' if met else 'MISSED'}] {text}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "size": args.size, "seed": args.seed, "started": started.isoformat(),
            "leader": leader, "week": week, "lost": n_lost, "seconds": secs, "objective": obj,
            "moves": {k: vars(v) | {"moved": v.moved} for k, v in moves.items()},
            "checked": checked,
            "incremental": {k: sol[k]["solver"].get("incremental") for k in keys[1:]}},
            indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
