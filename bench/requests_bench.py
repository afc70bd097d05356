"""What a change request pays to judge a session against the live roster, on the demo.

    python -m bench.requests_bench                   # load the demo, plan 12 weeks, publish
    python -m bench.requests_bench --db demo.sqlite  # an already published demo database

Every request that lists a session's alternatives or asks for a change judges it against the
problem of the published horizon as the database has it now (`sel_time.requests.rules`).
Before, each request built that problem afresh (`build_problem`, `parse_problem` and the live
roster through the ORM: about 2 s on the demo's system scope). Now it is kept per horizon and
data version, and built again only after a write. In one process and one run, for a team
session and an individual session, each repeat times:

  old    the old way, reproduced here: build, parse and read the roster through the ORM
  cold   the new way just after a write (the kept copy dropped): built once, roster by Core
  kept   the new way on a request that only looks (nothing written since the last one)

and prints the median of each in ms, with kept/old and cold/old.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def old_live_rules(session: Any) -> Any:
    """The LiveRules constructor as it was before the problem was kept (for comparison)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    import solver
    from sel_time.core.extensions import db
    from sel_time.models import Department, Plan, PlanStatus, ProtectedSession, RosterStatus
    from sel_time.plans.problem import assignment_key, build_problem, person_key, team_key
    from sel_time.plans.scope import Scope
    from solver.alternatives import Mover
    from solver.rules import Roster

    day = session.start_at.date()
    plans = db.session.scalars(sa.select(Plan).where(Plan.status == PlanStatus.PUBLISHED)
                               .order_by(Plan.published_at.desc(), Plan.id.desc())).all()
    if session.plan is not None and session.plan in plans:
        plan = session.plan
    else:
        plan = next(p for p in plans if p.start_date <= day <= p.end_date)
    built = build_problem(plan.start_date, plan.weeks, Scope.parse(plan.scope))
    problem = solver.parse_problem(built.problem)
    index = problem.slot_index
    sessions: dict[tuple[str, int], str] = {}
    meetings: dict[tuple[str, int], tuple[str, ...]] = {}
    stacked: list[tuple[str, int, str]] = []
    live = db.session.scalars(
        sa.select(ProtectedSession)
        .where(ProtectedSession.status == RosterStatus.CONFIRMED,
               ProtectedSession.slot.in_(list(index)))
        .options(selectinload(ProtectedSession.attendances)))
    for s in live:
        i = index[s.slot]
        if s.team_id is not None:
            if team_key(s.team_id) in problem.team:
                meetings[(team_key(s.team_id), i)] = tuple(
                    person_key(a.person_id) for a in s.attendances
                    if person_key(a.person_id) in problem.person)
        elif s.person_id is not None and s.assignment_id is not None:
            c = assignment_key(s.assignment_id)
            if c not in problem.commitment:
                continue
            key = (person_key(s.person_id), i)
            if key in sessions:
                stacked.append((*key, c))
            else:
                sessions[key] = c
    roster = Roster.of(problem, sessions, meetings)
    for p, i, c in stacked:
        roster.add_session(p, c, i)
    roster.department_names = {code: name for code, name in db.session.execute(
        sa.select(Department.code, Department.name))}
    return Mover(problem, roster)


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(repeats: int) -> None:
    import sqlalchemy as sa

    from sel_time.core.extensions import db
    from sel_time.models import ProtectedSession, RosterStatus
    from sel_time.requests import rules

    def first(team: bool) -> ProtectedSession:
        found = db.session.scalars(
            sa.select(ProtectedSession)
            .where(ProtectedSession.status == RosterStatus.CONFIRMED,
                   ProtectedSession.team_id.isnot(None) if team
                   else ProtectedSession.team_id.is_(None))
            .order_by(ProtectedSession.start_at.desc(), ProtectedSession.id)).first()
        assert found is not None, "publish the demo first"
        return found

    for label, session in (("team session", first(True)), ("individual session", first(False))):
        def judge(live: Any, s: ProtectedSession = session) -> Any:
            if s.team_id is not None:
                return live.team_options(s)
            att = s.attendances[0]
            return live.person_options(s, att.person_id, att.cost_pence)

        def old(s: ProtectedSession = session) -> None:
            mover = old_live_rules(s)
            assert mover.roster.sessions or mover.roster.meetings

        def cold(s: ProtectedSession = session) -> None:
            rules.forget()
            judge(rules.LiveRules(s))

        def kept(s: ProtectedSession = session) -> None:
            judge(rules.LiveRules(s))

        kept()  # the first request after a write builds the kept copy
        old_ms = _median_ms(old, repeats)
        cold_ms = _median_ms(cold, repeats)
        kept()
        kept_ms = _median_ms(kept, repeats)
        print(f"{label} {session.slot}: old {old_ms:.0f} ms, cold {cold_ms:.0f} ms, "
              f"kept {kept_ms:.1f} ms; kept/old {kept_ms / old_ms:.4f}, "
              f"cold/old {cold_ms / old_ms:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="an already published demo SQLite database")
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from config import DevelopmentConfig
    from sel_time import create_app

    from .feeds_bench import SECRET_KEY, build_demo

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db
        if path is None:
            path = Path(tmp) / "demo.sqlite"
            t0 = time.perf_counter()
            build_demo(path, args.weeks, args.time_limit)
            print(f"demo loaded, planned and published in {time.perf_counter() - t0:.0f} s")
        app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                         SECRET_KEY=SECRET_KEY)
        with app.app_context():
            measure(args.repeats)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
