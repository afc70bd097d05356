"""Ctrl-C after a solve still reaches Python: CP-SAT's own SIGINT handler, which it installs for
each solve and then resets to the system default, is turned off, so ``sel-time plan --here``
(and a worker) can turn Ctrl-C into a cancel instead of dying on the spot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from solver_factories import random_problem

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, signal, sys
import solver
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
problem = solver.parse_problem(json.load(open(sys.argv[1])))
solution = solver.solve(problem, solver.SolveOptions(time_limit=5, workers=1))
assert solution.status in ("optimal", "feasible"), solution.status
try:
    os.kill(os.getpid(), signal.SIGINT)  # Python raises it at the next instruction
except KeyboardInterrupt:
    print("KeyboardInterrupt reached Python")
    sys.exit(0)
sys.exit(5)
"""


def test_ctrl_c_after_a_solve_is_a_keyboard_interrupt_not_death_by_signal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(random_problem(2)))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=False)
    assert done.returncode != -signal.SIGINT, "killed outright by Ctrl-C after a solve"
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "KeyboardInterrupt reached Python" in done.stdout
