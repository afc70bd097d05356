"""What a hand edit pays to read its plan's problem: parsing it (every request before the
parsed problem was kept per plan) against the kept copy (every request after the first).

    python -m bench.hand_edit_bench --size M [--seed 1] [--repeats 5]

A generated problem of the given size is stored on a plan in a throw-away SQLite database;
then, in one process and one run, each repeat times ``solver.parse_problem`` on it (the
baseline) and ``sel_time.plans.problem.parsed_problem`` on the plan once the copy is kept
(its cost is the data-version check: one query). Printed: the median of each in ms and
their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bench.generate import SIZES, generate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import solver
    from config import TestingConfig
    from sel_time import create_app
    from sel_time.core.extensions import db
    from sel_time.models import Plan, PlanStatus
    from sel_time.plans.problem import parsed_problem

    problem = generate(args.size, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            db.create_all()
            now = datetime.now(timezone.utc)
            plan = Plan(scope="system", start_date=now.date(), weeks=12, status=PlanStatus.DRAFT,
                        problem=problem, requested_by="bench", created_at=now,
                        finished_at=now)
            db.session.add(plan)
            db.session.commit()
            parse_ms, kept_ms = [], []
            parsed_problem(plan)  # the first request of the plan parses and keeps it
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                solver.parse_problem(plan.problem)
                parse_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                parsed_problem(plan)
                kept_ms.append((time.perf_counter() - t0) * 1000)
            db.drop_all()
    parse, kept = statistics.median(parse_ms), statistics.median(kept_ms)
    print(f"size {args.size}, seed {args.seed}: {len(problem['people'])} people, "
          f"{len(problem['slots'])} slots, {args.repeats} repeats")
    print(f"parse the problem (before): median {parse:.1f} ms")
    print(f"kept parsed copy  (after):  median {kept:.1f} ms   ratio {kept / parse:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
