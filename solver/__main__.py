"""Command line: ``python -m solver solve|check|alternatives`` (see shared/spec/solver-io.md).

Exit codes: solve 0 plan, 3 infeasible, 2 invalid input; check 0 holds, 1 violations,
2 invalid input; alternatives 0 listed, 1 the session is not in the solution, 2 invalid
input. Faults go to stderr one per line, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from solver.alternatives import Mover, SessionNotFound, alternatives_to_dict
from solver.check import check
from solver.io import ProblemError, load_json, load_problem, solution_to_dict
from solver.solve import SolveOptions, solve

EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m solver", description="sel-time rota solver")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="solve a problem file")
    s.add_argument("problem", type=Path)
    s.add_argument("-o", "--output", type=Path, help="write the solution here (default stdout)")
    s.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds, model building included"
    )
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--method", choices=("cp-sat", "greedy"), default="cp-sat")
    s.add_argument("--progress", action="store_true", help="report progress on stderr")
    c = sub.add_parser("check", help="re-verify a solution against its problem")
    c.add_argument("problem", type=Path)
    c.add_argument("solution", type=Path)
    a = sub.add_parser("alternatives", help="every other slot for one session, judged as a move")
    a.add_argument("problem", type=Path)
    a.add_argument("solution", type=Path)
    who = a.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="the person whose individual session moves")
    who.add_argument("--team", help="the team whose session moves")
    a.add_argument("--slot", required=True, help="the session's slot id")
    a.add_argument("--commitment", help="with --person: the session's commitment")
    return ap


def _faults(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _solve(args: argparse.Namespace) -> int:
    if args.time_limit <= 0 or args.workers < 1:
        _faults(["--time-limit must be positive and --workers at least 1"])
        return EXIT_INVALID
    problem = load_problem(args.problem)

    def progress(message: str, fraction: float) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    options = SolveOptions(
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        method=args.method,
        progress=progress if args.progress else None,
    )
    solution = solve(problem, options)
    text = json.dumps(solution_to_dict(solution), indent=2) + "\n"
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _faults([f"{args.output}: cannot write ({exc.strerror or exc})"])
            return EXIT_INVALID
    else:
        sys.stdout.write(text)
    if solution.status == "infeasible":
        _faults(solution.conflicts)
        return EXIT_INFEASIBLE
    if not solution.has_plan:  # status unknown: no plan and no proof there is none
        _faults(list(solution.conflicts) or ["no plan was found within the time limit"])
        return EXIT_INFEASIBLE
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    problem = load_problem(args.problem)
    data = load_json(args.solution)
    if not isinstance(data, dict):
        raise ProblemError([f"{args.solution}: expected a solution object, got {type(data).__name__}"])
    result = check(problem, data)
    if result.ok:
        print(result.summary())
        return EXIT_OK
    _faults(result.violations)
    return EXIT_VIOLATIONS


def _alternatives(args: argparse.Namespace) -> int:
    if args.team is not None and args.commitment is not None:
        _faults(["--commitment goes with --person, not --team"])
        return EXIT_INVALID
    problem = load_problem(args.problem)
    data = load_json(args.solution)
    if not isinstance(data, dict):
        raise ProblemError(
            [f"{args.solution}: expected a solution object, got {type(data).__name__}"]
        )
    mover = Mover(problem, data)
    try:
        if args.team is not None:
            result = mover.for_team(args.team, args.slot)
        else:
            result = mover.for_person(args.person, args.slot, args.commitment)
    except SessionNotFound as exc:
        _faults([str(exc)])
        return EXIT_VIOLATIONS
    sys.stdout.write(json.dumps(alternatives_to_dict(result), indent=2) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        command = {"solve": _solve, "check": _check, "alternatives": _alternatives}
        return command[args.command](args)
    except ProblemError as exc:
        _faults(exc.errors)
        return EXIT_INVALID
    except KeyboardInterrupt:
        _faults(["interrupted"])
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract is: never a traceback
        _faults([f"internal error: {type(exc).__name__}: {exc}"])
        return 70


if __name__ == "__main__":
    sys.exit(main())
