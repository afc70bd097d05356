"""Malformed solver files: ``python -m solver solve`` and ``check`` given fuzzed JSON (values of
every JSON type, mutations of a valid small problem and solution, NaN/Infinity literals, huge
numbers, deep nesting, bytes that are not UTF-8) answer exit 2 with one path-named error per
line, never a traceback and never the catch-all "internal error" (exit 70).

The CLI's ``main`` is called in-process for speed (Hypothesis, seeded), plus a few real
subprocess runs.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.__main__ import main

_spec = importlib.util.spec_from_file_location(
    "solver_factories", Path(__file__).resolve().parents[1] / "solver" / "solver_factories.py"
)
factories = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(factories)  # type: ignore[union-attr]

BASE = factories.random_problem(3, people=3, days=10, teams=1)
FAULT = re.compile(r"^\S.*: \S")  # "people[0].available: expected an object, got a list"
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# Crashes found by this file in the solver (reported with their inputs; the solver is not this
# suite's to change). The property tests let exactly these through, so that any NEW crash still
# fails them; each has a strict-xfail reproducer below that flags when it is fixed.
KNOWN_SOLVER_DEFECTS: list[re.Pattern[str]] = []  # the crashes found here are fixed in solver/


def known_defect(code: int, err: str) -> bool:
    return code == 70 and any(p.search(err) for p in KNOWN_SOLVER_DEFECTS)


def assert_clean(code: int, err: str, allowed: set[int], tolerate_known: bool = False) -> None:
    if tolerate_known and known_defect(code, err):
        return
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in allowed, (code, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, "exit 2 without saying why"
        bad = [line for line in lines if not FAULT.match(line)]
        assert not bad, f"lines that name no path: {bad}"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["2026-03-02/AM", "2026-13-01", "p0", "", "9999-12-31T23:59", "Europe/Nowhere"]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(BASE)


@st.composite
def mutated(
    draw: Any, base: dict[str, Any] = BASE, paths: list[tuple[Any, ...]] = PATHS
) -> dict[str, Any]:
    """The valid problem with one to three values replaced, deleted or wrapped."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            key = path[-1]
            parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "delete", "wrap", "null", "huge"]))
        if action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif action == "null":
            parent[key] = None
        elif action == "huge":
            parent[key] = draw(
                st.sampled_from([10**30, -(10**30), 1e308, float("nan"), float("inf"), 2**63])
            )
        else:
            parent[key] = draw(json_values)
    return data


def _write(tmp: Path, name: str, value: Any) -> Path:
    path = tmp / name
    path.write_text(json.dumps(value, allow_nan=True), encoding="utf-8")  # NaN, Infinity literals
    return path


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: Any) -> Path:
    return tmp_path_factory.mktemp("solver-files")


@pytest.fixture(scope="module")
def valid(tmp: Path) -> tuple[Path, Path]:
    problem = _write(tmp, "problem.json", BASE)
    solution = tmp / "solution.json"
    code, _, err = run(
        ["solve", str(problem), "-o", str(solution), "--time-limit", "5", "--workers", "1"]
    )
    assert code == 0, err
    return problem, solution


@SETTINGS
@given(value=json_values)
def test_any_json_value_as_problem(tmp: Path, value: Any) -> None:
    path = _write(tmp, "any.json", value)
    code, _, err = run(
        ["solve", str(path), "--time-limit", "1", "--workers", "1", "--method", "greedy"]
    )
    assert_clean(code, err, {2})


@SETTINGS
@given(data=mutated())
def test_mutated_problem(tmp: Path, data: dict[str, Any]) -> None:
    path = _write(tmp, "mutated.json", data)
    code, _, err = run(
        ["solve", str(path), "--time-limit", "1", "--workers", "1", "--method", "greedy"]
    )
    assert_clean(code, err, {0, 2, 3}, tolerate_known=True)


@settings(SETTINGS, max_examples=40)
@given(data=mutated())
def test_mutated_problem_cp_sat(tmp: Path, data: dict[str, Any]) -> None:
    path = _write(tmp, "mutated-cp.json", data)
    code, _, err = run(["solve", str(path), "--time-limit", "1", "--workers", "1"])
    assert_clean(code, err, {0, 2, 3}, tolerate_known=True)


@SETTINGS
@given(data=st.data())
def test_mutated_solution_for_check(tmp: Path, valid: tuple[Path, Path], data: Any) -> None:
    problem, solution = valid
    doc = json.loads(solution.read_text())
    bad = data.draw(mutated(doc, _paths(doc)))
    path = _write(tmp, "bad-solution.json", bad)
    code, _, err = run(["check", str(problem), str(path)])
    assert_clean(code, err, {0, 1, 2}, tolerate_known=True)


RAW = {
    "not utf-8": b"\xff\xfe{\x00\"\x00",
    "latin-1": '{"format": "sel-time/problem@1", "people": [{"name": "Zoë"}]}'.encode("latin-1"),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "truncated": json.dumps(BASE).encode()[:200],
    "empty": b"",
    "NaN at top": b"NaN",
    "huge integer literal": b'{"format": "sel-time/problem@1", "slots": [], "people": [], '
    b'"weights": {"shortfall": '
    + b"9" * 5000
    + b"}}",
    "bom": b"\xef\xbb\xbf" + json.dumps(BASE).encode(),
}


# Defects found here in solver/io.py ``load_json`` (reported; the solver is not this suite's to
# change): JSON nested deeper than the parser's recursion limit raises RecursionError, and an
# integer literal of more than 4,300 digits raises ValueError; both escape as exit 70
# "internal error" instead of exit 2 naming the file. Strict xfail: they flag when fixed.
SOLVER_DEFECTS: set[str] = set()  # all three fixed in solver/io.py load_json
_xfail = pytest.mark.xfail(
    strict=True, reason="solver/io.py load_json: RecursionError/ValueError escape"
)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=_xfail) if n in SOLVER_DEFECTS else n for n in sorted(RAW)]
)
def test_raw_bytes(tmp: Path, name: str) -> None:
    path = tmp / "raw.json"
    path.write_bytes(RAW[name])
    code, _, err = run(
        ["solve", str(path), "--time-limit", "1", "--workers", "1", "--method", "greedy"]
    )
    assert_clean(code, err, {0, 2, 3} if name == "bom" else {2})


@pytest.mark.parametrize("name", ["not utf-8", "deep nesting", "truncated"])
def test_subprocess(tmp: Path, valid: tuple[Path, Path], name: str) -> None:
    path = tmp / f"sub-{name.replace(' ', '-')}.json"
    path.write_bytes(RAW[name])
    for argv in (["solve", str(path), "--time-limit", "1"], ["check", str(valid[0]), str(path)]):
        proc = subprocess.run(
            [sys.executable, "-m", "solver", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert_clean(proc.returncode, proc.stderr, {2})


def _with(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


_FIRST_SLOT = sorted(BASE["people"][1]["available"])[0]
_defect = pytest.mark.xfail(strict=True, reason="solver crash, reported with this input")


@pytest.mark.parametrize("method", ["greedy", "cp-sat"])
def test_defect_infinite_cost(tmp: Path, method: str) -> None:
    """people[1].available.<slot>: 1e308 (a finite JSON number) -> OverflowError, exit 70."""
    path = _write(
        tmp, "cost-1e308.json", _with(BASE, ("people", 1, "available", _FIRST_SLOT), 1e308)
    )
    code, _, err = run(
        ["solve", str(path), "--time-limit", "1", "--workers", "1", "--method", method]
    )
    assert_clean(code, err, {2})


def test_defect_huge_cost_cp_sat(tmp: Path) -> None:
    """people[1].available.<slot>: 10**30 -> CP-SAT RuntimeError "Unable to cast", exit 70."""
    path = _write(
        tmp, "cost-1e30.json", _with(BASE, ("people", 1, "available", _FIRST_SLOT), 10**30)
    )
    code, _, err = run(["solve", str(path), "--time-limit", "1", "--workers", "1"])
    assert_clean(code, err, {2})


def test_defect_check_person_as_list(tmp: Path, valid: tuple[Path, Path]) -> None:
    """check: a solution whose sessions[0].person is ["p0"] -> TypeError unhashable, exit 70."""
    doc = json.loads(valid[1].read_text())
    bad = _with(doc, ("sessions", 0, "person"), [doc["sessions"][0]["person"]])
    code, _, err = run(["check", str(valid[0]), str(_write(tmp, "person-list.json", bad))])
    assert_clean(code, err, {1})  # a violation naming sessions[0].person, not a crash


def test_defect_check_non_object_solution_exits_1(tmp: Path, valid: tuple[Path, Path]) -> None:
    """check: a solution file holding NaN (or any non-object) exits 1 "violations", not 2."""
    path = tmp / "nan-solution.json"
    path.write_bytes(b"NaN")
    code, _, err = run(["check", str(valid[0]), str(path)])
    assert_clean(code, err, {2})
