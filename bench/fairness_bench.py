"""Fairness across professions, on against off: what the fairness term buys and what it costs.

    python -m bench.fairness_bench --instances demo,S,M --weights 50,200,1000 --time-limit 60

Each instance is solved with `weights.fairness` 0 (off) and at each weight given. The demo is
loaded into a temporary SQLite database and its problem built by the app's own
`sel_time.plans.problem.build_problem` (12 weeks, system scope); S and M come from
`bench.generate` with each person in the groups `profession:<profession>` and
`org:<borough>-<setting>`. An instance named with `-tight` (`demo-tight`, `S-tight`) has every
department capped at one leader away at a time, so that slots are scarce; with `-prof`
(`demo-prof`, `S-tight-prof`) people are in their profession's group only. L (6,000 people) is
above `solver.decompose.FAIRNESS_WHOLE_LIMIT`: its parts are solved apart and the term is priced
on their plan, not optimised (one whole model of 430,000 literals is too heavy); `--processes 2`
solves those parts side by side.

Printed for each run: the spread of share met across professions (worst − best, percentage
points), total shortfall sessions, backfill cost (GBP), objective (GBP, fairness term
included), wall seconds, the gap to the proved bound (%), and, against off, the ratios of
shortfall and backfill.
Target on the demo: the spread falls and total shortfall rises by no more than 1 %.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import solver  # noqa: E402
from bench.generate import generate  # noqa: E402

log = logging.getLogger(__name__)
DEMO_WEEKS = 12


@dataclass(frozen=True)
class Result:
    instance: str
    weight: float
    status: str
    spread: float
    shortfall: int
    backfill: float
    objective: float
    fairness_term: float
    wall: float
    gap: float = 0.0  # (objective - proved bound) / objective


def demo_problem(start: date | None = None) -> dict[str, Any]:
    """The demo's 12-week system problem, built by the app in a temporary SQLite database."""
    from config import TestingConfig
    from sel_time import create_app
    from sel_time.core.extensions import db
    from sel_time.demo import DEFAULT_START, load_demo
    from sel_time.plans.problem import build_problem
    from sel_time.plans.scope import Scope

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/demo.db")
        with app.app_context():
            db.create_all()
            load_demo(db.session, start=start or DEFAULT_START)
            db.session.commit()
            problem = build_problem(start or DEFAULT_START, DEMO_WEEKS, Scope("system")).problem
            db.session.remove()
            db.engine.dispose()
    return problem


def tighten(problem: dict[str, Any]) -> dict[str, Any]:
    """The same problem with every department letting at most one leader away at a time:
    slots become scarce, and the shortfall is no longer all for want of availability."""
    departments = sorted({p["department"] for p in problem["people"] if p.get("department")})
    caps = [{**c, "max_away": min(c["max_away"], 1)} for c in problem.get("caps", [])]
    capped = {c["department"] for c in caps if "slots" not in c}
    caps += [{"department": d, "max_away": 1} for d in departments if d not in capped]
    return {**problem, "caps": caps}


def professions_only(problem: dict[str, Any]) -> dict[str, Any]:
    """The same problem with only the ``profession:`` groups (no ``org:`` groups)."""
    people = [{**p, "groups": [g for g in p.get("groups", []) if g.startswith("profession:")]}
              for p in problem["people"]]
    return {**problem, "people": people}


def spread(groups: list[dict[str, Any]]) -> float:
    """Worst − best share met across professions, in percentage points."""
    shares = [100 * (g["entitled"] - g["short"]) / g["entitled"] for g in groups
              if g["group"].startswith("profession:") and g["entitled"] > 0]
    return round(max(shares) - min(shares), 2) if len(shares) > 1 else 0.0


def run(instance: str, problem: dict[str, Any], weight: float, time_limit: float,
        workers: int, processes: int = 1) -> Result:
    doc = {**problem, "weights": {**problem.get("weights", {}), "fairness": weight}}
    parsed = solver.parse_problem(doc)
    t0 = time.monotonic()
    sol = solver.solution_to_dict(solver.solve(parsed, solver.SolveOptions(
        time_limit=time_limit, workers=workers, seed=0, processes=processes)))
    wall = time.monotonic() - t0
    totals = sol.get("totals", {})
    return Result(instance, weight, sol["status"], spread(sol.get("groups") or []),
                  int(totals.get("shortfall_sessions", 0)), float(totals.get("backfill_cost", 0)),
                  float(sol.get("objective") or 0),
                  float(sol.get("objective_terms", {}).get("fairness", 0)), wall,
                  gap(sol.get("objective"), sol.get("bound")))


def gap(objective: float | None, bound: float | None) -> float:
    """The relative gap to the proved bound (1 when either is missing)."""
    if not objective or bound is None:
        return 1.0
    return max(0.0, objective - bound) / objective


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else ("1.000" if a == b else "inf")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="demo,S,M",
                        help="demo, S, M and/or L; -tight: every department one away; -prof: "
                             "profession groups only")
    parser.add_argument("--weights", default="200", help="fairness weights to try (GBP)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed for S, M, L")
    parser.add_argument("--processes", type=int, default=1,
                        help="worker processes for the parts (L)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    weights = [float(w) for w in args.weights.split(",") if w.strip()]
    print("instance  weight  status    spread_pp  shortfall  backfill_GBP  objective  "
          "fairness_term  wall_s  gap_pct  shortfall_x  backfill_x")
    for name in [n.strip() for n in args.instances.split(",") if n.strip()]:
        base, *variants = name.split("-")
        problem = demo_problem() if base == "demo" else generate(base, args.seed, groups=True)
        if "tight" in variants:
            problem = tighten(problem)
        if "prof" in variants:
            problem = professions_only(problem)
        off = run(name, problem, 0.0, args.time_limit, args.workers, args.processes)
        for weight in [0.0, *weights]:  # each line printed as soon as it is solved
            r = off if weight == 0.0 else run(name, problem, weight, args.time_limit,
                                              args.workers, args.processes)
            print(f"{r.instance:8s}  {r.weight:6.0f}  {r.status:8s}  {r.spread:9.2f}  "
                  f"{r.shortfall:9d}  {r.backfill:12.2f}  {r.objective:9.2f}  "
                  f"{r.fairness_term:13.2f}  {r.wall:6.1f}  {100 * r.gap:7.3f}  "
                  f"{ratio(r.shortfall, off.shortfall):>11s}  "
                  f"{ratio(r.backfill, off.backfill):>10s}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
