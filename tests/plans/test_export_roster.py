"""``sel-time export-roster``: the whole live roster, every scope's plan together, as one pair
that ``python -m solver check`` accepts; bad arguments are refused in words (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import Plan
from sel_time.plans.publishing import publish
from tests.plans.conftest import START, WEEKS, Small, weekdays


@pytest.fixture()
def second_trust(small: Small, make: Callable[..., Any]) -> int:
    """Guy's and St Thomas': one nurse leader with one session a week; returns her id."""
    org = make("organisations", code="gst", name="Guy's and St Thomas'")
    dee = make(
        "people",
        organisation_id=org.id,
        name="Dee Oduya",
        profession="nurse",
        band="8c",
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
    )
    role = make(
        "roles",
        host_organisation_id=org.id,
        title="Chief Nurse",
        commitment_amount=1,
        commitment_unit="session",
        commitment_per="week",
    )
    make("assignments", person_id=dee.id, role_id=role.id, start_date="2027-01-01")
    return int(dee.id)


def test_the_roster_of_two_scopes_exports_as_one_pair_the_checker_accepts(
    small: Small, second_trust: int, solve_plan: Callable[..., Plan], runner: Any,
    tmp_path: Path,
) -> None:
    plans = []
    for scope in ("organisation:kch", "organisation:gst"):  # as a nightly run's parts publish
        plan = solve_plan(scope=scope)
        publish(plan.id, CLI_ACTOR)
        db.session.commit()
        plans.append(plan)
    p, s = tmp_path / "roster-problem.json", tmp_path / "roster-solution.json"
    result = runner.invoke(args=["sel-time", "export-roster", "--start", START.isoformat(),
                                 "--weeks", str(WEEKS), "--problem", str(p), "--solution", str(s)])
    assert result.exit_code == 0, result.output
    assert "from 2 plan(s)" in result.output
    checked = subprocess.run([sys.executable, "-m", "solver", "check", str(p), str(s)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "every rule holds" in checked.stdout
    solution = json.loads(s.read_text())
    people = {x["person"] for x in solution["sessions"]}
    assert f"p{second_trust}" in people and f"p{small.ada}" in people  # both trusts' leaders
    assert len(solution["sessions"]) == sum(
        1 for plan in plans for x in plan.sessions if x.person_id)
    assert solution["team_sessions"] and len(solution["team_sessions"]) == sum(
        1 for plan in plans for x in plan.sessions if x.team_id)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--start", "2027-13-01", "--weeks", "2"], "--start: '2027-13-01' is not a date"),
        (["--start", "2027-04-27", "--weeks", "2"], "start: 2027-04-27 is a Tue"),
        (["--start", "2027-04-26", "--weeks", "0"], "--weeks: 0 is not between 1 and 52"),
        (["--start", "2027-04-26", "--weeks", "two"], "--weeks: 'two' is not a whole number"),
        (["--start", "2027-04-26", "--weeks", "2", "--problem", "{missing}/p.json"],
         "--problem: the folder of"),
        (["--start", "2027-04-26", "--weeks", "2", "--solution", "{tmp}"],
         "--solution: {tmp} is a folder, not a file"),
    ],
)
def test_a_bad_argument_is_refused_in_words(
    small: Small, runner: Any, tmp_path: Path, args: list[str], words: str
) -> None:
    fill = {"missing": str(tmp_path / "no-such-folder"), "tmp": str(tmp_path)}
    given = dict(zip(args[::2], args[1::2]))
    given.setdefault("--problem", str(tmp_path / "p.json"))
    given.setdefault("--solution", str(tmp_path / "s.json"))
    argv = [x.format(**fill) for kv in given.items() for x in kv]
    result = runner.invoke(args=["sel-time", "export-roster", *argv])
    assert result.exit_code == 2, result.output
    assert words.format(**fill) in result.output
    assert not (tmp_path / "p.json").exists()
