"""sel-time's pure optimisation package: a problem goes in, a plan comes out.

Where things are: `model` (frozen dataclasses), `io` (JSON, validation), `constraints`
(the CP-SAT model, one function per rule family), `conflicts` (do the pins hold? why
not?), `greedy` (the hand-made baseline and the repair of a previous plan), `decompose`
(independent blocks and groups), `solve` (the whole run), `explain` (shortfall reasons),
`plan` (pricing a plan), `rules` (each hard rule written once: the checker's line and a
rota manager's sentence), `check` (independent re-verification), `alternatives` (every other
slot for one session, judged without a model), `incremental` (re-solve only what a change
touches, the rest fixed as published; ``python -m solver resolve``), `__main__` (the CLI).

Public API::

    from solver import parse_problem, load_problem, solution_to_dict, ProblemError
    from solver import solve, SolveOptions, check
    from solver.incremental import resolve
"""

from solver.check import CheckResult, check
from solver.io import ProblemError, load_problem, parse_problem, parse_solution, solution_to_dict
from solver.model import Problem, Solution
from solver.solve import SolveOptions, Stopped, solve

__all__ = [
    "CheckResult",
    "Problem",
    "ProblemError",
    "Solution",
    "SolveOptions",
    "Stopped",
    "check",
    "load_problem",
    "parse_problem",
    "parse_solution",
    "solution_to_dict",
    "solve",
]
