"""`python -m solver solve|check` through a real subprocess: exit codes, stderr lines, no
tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from solver_factories import random_problem

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "solver", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture()
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(random_problem(2)))
    return path


def test_solve_to_file_then_check(tmp_path: Path, problem_file: Path):
    out = tmp_path / "solution.json"
    proc = run(
        "solve",
        str(problem_file),
        "-o",
        str(out),
        "--time-limit",
        "5",
        "--workers",
        "1",
        "--seed",
        "2",
    )
    assert proc.returncode == 0, proc.stderr
    sol = json.loads(out.read_text())
    assert sol["status"] in ("optimal", "feasible") and sol["solver"]["seed"] == 2
    proc = run("check", str(problem_file), str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok")


def test_solve_to_stdout_greedy(problem_file: Path):
    proc = run("solve", str(problem_file), "--method", "greedy", "--progress")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["solver"]["method"] == "greedy"
    assert "%]" in proc.stderr


def test_check_reports_violations(tmp_path: Path, problem_file: Path):
    out = tmp_path / "solution.json"
    assert run("solve", str(problem_file), "-o", str(out), "--time-limit", "5").returncode == 0
    sol = json.loads(out.read_text())
    sol["objective"] += 1
    out.write_text(json.dumps(sol))
    proc = run("check", str(problem_file), str(out))
    assert proc.returncode == 1
    assert proc.stderr.startswith("objective:")


def test_invalid_problem_exits_2_with_paths(tmp_path: Path):
    data = random_problem(1)
    data["people"][3]["available"]["2026-13-01/AM"] = 1
    data["teams"][0]["quorum"] = 99
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    proc = run("solve", str(path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert 'people[3].available: unknown slot "2026-13-01/AM"' in lines
    assert any(
        line.startswith("teams[0].quorum: quorum 99 is above the team size") for line in lines
    )
    assert proc.stdout == ""


@pytest.mark.parametrize("content", ["{ not json", None])
def test_unreadable_files_exit_2(tmp_path: Path, problem_file: Path, content):
    path = tmp_path / "x.json"
    if content is not None:
        path.write_text(content)
    assert run("solve", str(path)).returncode == 2
    proc = run("check", str(problem_file), str(path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_infeasible_pins_exit_3_with_conflicts(tmp_path: Path):
    data = random_problem(1)
    data["caps"] = [{"department": "ed", "max_away": 1}]
    slot = data["slots"][3]["id"]
    data["pinned"] = []
    for p in data["people"][:2]:
        p["department"] = "ed"
        p["available"][slot] = 0
        data["pinned"].append({"person": p["id"], "slot": slot})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "s.json"
    proc = run("solve", str(path), "-o", str(out))
    assert proc.returncode == 3
    assert "exceed the ed cap of 1 away" in proc.stderr
    assert json.loads(out.read_text())["status"] == "infeasible"


def test_bad_arguments_exit_2(problem_file: Path):
    assert run("solve", str(problem_file), "--method", "magic").returncode == 2
    assert run("frobnicate").returncode == 2
