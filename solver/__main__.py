"""Command line: ``python -m solver solve|check|alternatives|resolve`` (see
shared/spec/solver-io.md for the first three).

Exit codes: solve 0 plan, 3 infeasible, 2 invalid input; check 0 holds, 1 violations,
2 invalid input; alternatives 0 listed, 1 the session is not in the solution, 2 invalid
input. Faults go to stderr one per line, never as a traceback.

``resolve`` (additive, not yet in the spec) is the incremental re-solve of
`solver.incremental`: only the touched people and teams (and what they free) are decided
again, everything else stays as published::

    python -m solver resolve PROBLEM.json [--people P1,P2] [--teams T1]
                             [--previous SOLUTION.json] [--no-departments]
                             [-o SOLUTION.json] [--time-limit S] [--workers N] [--seed N]

``solve --processes N`` (additive) solves the problem's independent parts side by side in N
worker processes; the bound is still the sum of the parts' proved bounds.

The published plan is the problem's `previous` entries, or the solution given with
`--previous` (then fixed team sessions keep its attendees). `--no-departments` leaves
department-mates of the free people fixed (freed only if the local model has no plan).
Without --people and --teams only what the published plan now breaks is freed. The output
and exit codes are those of ``solve``; an unknown person or team is invalid input (2).
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
from solver.incremental import resolve
from solver.io import ProblemError, load_json, load_problem, parse_solution, solution_to_dict
from solver.model import Solution
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
    s.add_argument(
        "--processes",
        type=int,
        default=1,
        help="solve the independent parts side by side in this many worker processes "
        "(each CP-SAT gets workers / processes threads)",
    )
    s.add_argument("--progress", action="store_true", help="report progress on stderr")
    r = sub.add_parser(
        "resolve", help="incremental re-solve: only the touched people and teams are free"
    )
    r.add_argument("problem", type=Path)
    r.add_argument("--people", action="append", default=[], help="touched people, comma-separated")
    r.add_argument("--teams", action="append", default=[], help="touched teams, comma-separated")
    r.add_argument("--previous", type=Path, help="the published plan as a solution file")
    r.add_argument(
        "--no-departments",
        dest="departments",
        action="store_false",
        help="do not free the people sharing a capped department with a free person",
    )
    r.add_argument("-o", "--output", type=Path, help="write the solution here (default stdout)")
    r.add_argument("--time-limit", type=float, default=60.0, help="seconds, fallback included")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--seed", type=int, default=0)
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
    if args.processes < 1:
        _faults([f"--processes must be at least 1, not {args.processes}"])
        return EXIT_INVALID
    problem = load_problem(args.problem)

    def progress(message: str, fraction: float) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    options = SolveOptions(
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        method=args.method,
        processes=args.processes,
        progress=progress if args.progress else None,
    )
    solution = solve(problem, options)
    return _write_solution(solution, args.output)


def _ids(values: Sequence[str]) -> list[str]:
    return [i.strip() for v in values for i in v.split(",") if i.strip()]


def _resolve(args: argparse.Namespace) -> int:
    if args.time_limit <= 0 or args.workers < 1:
        _faults(["--time-limit must be positive and --workers at least 1"])
        return EXIT_INVALID
    problem = load_problem(args.problem)
    previous = None
    if args.previous is not None:
        data = load_json(args.previous)
        if not isinstance(data, dict):
            raise ProblemError(
                [f"{args.previous}: expected a solution object, got {type(data).__name__}"]
            )
        previous = parse_solution(data)
    options = SolveOptions(time_limit=args.time_limit, workers=args.workers, seed=args.seed)
    try:
        solution = resolve(
            problem,
            previous,
            people=_ids(args.people),
            teams=_ids(args.teams),
            options=options,
            departments=args.departments,
        )
    except ValueError as exc:
        _faults([str(exc)])
        return EXIT_INVALID
    return _write_solution(solution, args.output)


def _write_solution(solution: Solution, output: Path | None) -> int:
    text = json.dumps(solution_to_dict(solution), indent=2) + "\n"
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _faults([f"{output}: cannot write ({exc.strerror or exc})"])
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
        raise ProblemError(
            [f"{args.solution}: expected a solution object, got {type(data).__name__}"]
        )
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
        command = {
            "solve": _solve,
            "check": _check,
            "alternatives": _alternatives,
            "resolve": _resolve,
        }
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
