"""A small hand-built system for the planning tests: one trust with an Emergency Department
that lets one person away at a time, three leaders with their roles, a leadership team that
meets on Thursday afternoons, a rate change in the middle of the horizon, and a bank holiday.

The horizon is the two weeks from Monday 26 April 2027 (Monday 3 May 2027 is the Early May
bank holiday), far enough ahead that every session in it is still in the future.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import Plan, PlanStatus
from sel_time.plans.planning import request_plan, run_plan

START = date(2027, 4, 26)
WEEKS = 2
END = START + timedelta(weeks=WEEKS, days=-1)
BANK_HOLIDAY = date(2027, 5, 3)
RATE_CHANGE = date(2027, 5, 1)  # consultants: £100/h before, £120/h from this Saturday
TIME_LIMIT = 5.0


def weekdays(
    *days: str, kind: str = "clinical", halves: tuple[str, ...] = ("AM", "PM")
) -> list[dict[str, str]]:
    return [{"day": d, "half": h, "kind": kind} for d in days for h in halves]


@dataclass
class Small:
    """Ids of the records of the small system."""

    org: int
    ed: int  # Emergency Department, max_away 1
    ada: int  # ED consultant, Wed PM non-clinical
    ben: int  # ED consultant, works Mon-Thu, own backfill rate £50/h
    cara: int  # community nurse director, no department, on leave all of week 2
    ada_role: int
    ben_role: int
    cara_role: int
    ada_assignment: int
    ben_assignment: int
    cara_assignment: int
    team: int


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Plans are solved inside the request unless a test turns this off."""
    return {**app_config, "SOLVER_TIME_LIMIT": TIME_LIMIT,
            "SOLVER_WORKERS": 2}


@pytest.fixture()
def small(app: Flask, make: Callable[..., Any]) -> Small:
    org = make("organisations", code="kch", name="King's College Hospital")
    ed = make(
        "departments",
        organisation_id=org.id,
        code="kch-ed",
        name="Emergency Department",
        max_away=1,
    )
    make(
        "rates",
        staff_group="consultant",
        label="Consultant",
        rate_per_hour="100.00",
        effective_from="2027-01-01",
        source="test figures",
    )
    make(
        "rates",
        staff_group="consultant",
        label="Consultant",
        rate_per_hour="120.00",
        effective_from=RATE_CHANGE.isoformat(),
        source="test figures",
    )
    make(
        "rates",
        staff_group="afc_band_8c",
        label="Band 8c",
        rate_per_hour="80.00",
        effective_from="2027-01-01",
        source="test figures",
    )
    ada = make(
        "people",
        organisation_id=org.id,
        department_id=ed.id,
        name="Ada Okafor",
        profession="consultant",
        band=None,
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri", halves=("AM",))
        + weekdays("Mon", "Tue", "Thu", "Fri", halves=("PM",))
        + weekdays("Wed", kind="non_clinical", halves=("PM",)),
    )
    ben = make(
        "people",
        organisation_id=org.id,
        department_id=ed.id,
        name="Ben Adeyemi",
        profession="consultant",
        band=None,
        backfill_rate="50.00",
        pattern=weekdays("Mon", "Tue", "Wed", "Thu"),
    )
    cara = make(
        "people",
        organisation_id=org.id,
        name="Cara Mensah",
        profession="nurse",
        band="8c",
        pattern=weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
    )
    make(
        "absences", person_id=cara.id, kind="annual", start_date="2027-05-03", end_date="2027-05-07"
    )
    roles = []
    for title in ("Clinical Director", "Deputy Clinical Director", "Director of Nursing"):
        roles.append(
            make(
                "roles",
                host_organisation_id=org.id,
                title=title,
                commitment_amount=1,
                commitment_unit="session",
                commitment_per="week",
            )
        )
    assignments = [
        make("assignments", person_id=p.id, role_id=r.id, start_date="2027-01-01")
        for p, r in zip((ada, ben, cara), roles)
    ]
    team = make(
        "teams",
        code="kch-lt",
        name="KCH leadership team",
        sessions_amount=1,
        sessions_per="week",
        quorum=2,
        allowed_slots=["Thu/PM"],
        member_ids=[ada.id, ben.id, cara.id],
    )
    return Small(
        org.id,
        ed.id,
        ada.id,
        ben.id,
        cara.id,
        *(r.id for r in roles),
        *(a.id for a in assignments),
        team.id,
    )


@pytest.fixture()
def solve_plan(app: Flask) -> Callable[..., Plan]:
    """``solve_plan()``: request and run a plan over the small horizon; returns the draft."""

    def _solve(
        start: date = START,
        weeks: int = WEEKS,
        scope: str = "system",
        time_limit: float = TIME_LIMIT,
    ) -> Plan:
        plan = request_plan(start, weeks, scope, time_limit, CLI_ACTOR)
        db.session.commit()
        plan = run_plan(plan.id)
        assert plan.status == PlanStatus.DRAFT, (plan.status, plan.error, plan.conflicts)
        return plan

    return _solve


@pytest.fixture()
def rota(login_as: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Authorization headers of a rota manager."""
    return login_as("rota_manager")


@pytest.fixture()
def export_and_check(
    runner: Any, tmp_path: Any
) -> Callable[[str], tuple[dict[str, Any], dict[str, Any]]]:
    """``export_and_check("3")``: run ``sel-time export-plan 3 --problem P --solution S`` and
    assert that the solver's checker accepts the pair; returns (problem, solution)."""
    import json

    import solver

    def _run(plan_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        p, s = tmp_path / f"problem-{plan_ref}.json", tmp_path / f"solution-{plan_ref}.json"
        result = runner.invoke(
            args=["sel-time", "export-plan", plan_ref, "--problem", str(p), "--solution", str(s)]
        )
        assert result.exit_code == 0, result.output
        problem, solution = json.loads(p.read_text()), json.loads(s.read_text())
        assert problem["format"] == "sel-time/problem@1"
        assert solution["format"] == "sel-time/solution@1"
        verdict = solver.check(solver.parse_problem(problem), solution)
        assert verdict.ok, verdict.violations
        return problem, solution

    return _run


def roster_snapshot() -> dict[str, tuple[Any, ...]]:
    """The published roster as uid → (slot, status, sequence, ((person, cost in pence), ...))."""
    import sqlalchemy as sa

    from sel_time.models import ProtectedSession

    db.session.expire_all()
    out = {}
    for s in db.session.scalars(sa.select(ProtectedSession)):
        out[s.uid] = (
            s.slot,
            s.status.value,
            s.sequence,
            tuple(sorted((a.person_id, a.cost_pence) for a in s.attendances)),
        )
    return out


def add_leave(
    make: Callable[..., Any], person_id: int, first: str, last: str | None = None
) -> None:
    make("absences", person_id=person_id, kind="sickness", start_date=first, end_date=last or first)
