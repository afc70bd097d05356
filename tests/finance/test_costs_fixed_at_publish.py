"""The cost of a session is fixed when it is published, by the rate in force on its day: the
real path (plan with the solver, publish) fixes the costs the hand-costed ledger uses, and a
later change to the rate card never changes what published sessions cost."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.finance import backfill
from sel_time.models import Attendance, Person, Plan, PlanStatus, ProtectedSession, RateCardEntry
from sel_time.plans.planning import request_plan, run_plan
from sel_time.plans.publishing import publish
from tests.finance.conftest import HAND_COSTS, PERIOD, Directory, Ledger

START = date(2026, 12, 28)  # Mon 28 Dec and Fri 1 Jan are bank holidays
PUBLISH_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The only plan the patterns allow: each leader's one clinical half-day, the team on Thursday.
REAL_PATH = [("Ada", "2026-12-29/AM"), ("Ada", "2027-01-05/AM"), ("Bea", "2026-12-30/AM"),
             ("Bea", "2027-01-06/AM"), ("Cal", "2026-12-30/PM"), ("Cal", "2027-01-06/PM"),
             ("Dan", "2026-12-29/PM"), ("Dan", "2027-01-05/PM")] + [
    (who, slot) for slot in ("2026-12-31/AM", "2027-01-07/AM") for who in ("Ada", "Bea", "Cal")]


def plan_and_publish() -> Plan:
    plan = request_plan(START, 2, "system", 5, CLI_ACTOR)
    db.session.commit()
    plan = run_plan(plan.id)
    assert plan.status == PlanStatus.DRAFT, (plan.error, plan.conflicts)
    publish(plan.id, CLI_ACTOR, now=PUBLISH_AT)
    db.session.commit()
    return plan


def published_costs() -> dict[tuple[str, str], int]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Person.name, ProtectedSession.slot, Attendance.cost_pence)
        .join(Attendance, Attendance.person_id == Person.id)
        .join(ProtectedSession, Attendance.session_id == ProtectedSession.id)
        .where(ProtectedSession.status == "confirmed"))
    return {(name, slot): cost for name, slot, cost in rows}


def test_publishing_fixes_the_rate_in_force_on_the_day(directory: Directory) -> None:
    plan_and_publish()
    # Bea and Dan: £41/h in December, £43/h in January; Cal at her own £52.50/h.
    assert published_costs() == {key: HAND_COSTS[key] for key in REAL_PATH}
    # Ada 2 × 48000 + Bea 16400+17200 + Cal 2 × 21000 + Dan 16400+17200 = 205200, and the
    # team (48000+16400+21000) + (48000+17200+21000) = 171600: 376800
    summary = backfill.summarise(["year"], date(2026, 12, 1), date(2027, 1, 31))
    assert summary.total.planned == 376800


def test_a_rate_change_after_publication_changes_no_published_cost(
        directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]) -> None:
    plan_and_publish()
    before = published_costs()
    finance_user, admin = login_as("finance"), login_as("admin")

    def summaries() -> dict[str, Any]:
        return {g: client.get("/api/v1/costs", query_string={"by": g, **PERIOD},
                              headers=finance_user).get_json() for g in backfill.GROUPINGS}

    summary_before = summaries()
    # Band 7 rises from £41 to £45, a new consultant rate from 1 December, Cal's own rate rises.
    band7 = db.session.scalar(sa.select(RateCardEntry).where(
        RateCardEntry.staff_group == "afc_band_7",
        RateCardEntry.effective_from == date(2025, 4, 1)))
    r = client.patch(f"/api/v1/rates/{band7.id}", json={"rate_per_hour": "45.00"}, headers=admin)
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.post("/api/v1/rates", headers=admin, json={
        "staff_group": "consultant", "label": "Consultant", "rate_per_hour": "150.00",
        "effective_from": "2026-12-01", "source": "test"})
    assert r.status_code == 201, r.get_data(as_text=True)
    r = client.patch(f"/api/v1/people/{directory.cal}", json={"backfill_rate": "60.00"},
                     headers=admin)
    assert r.status_code == 200, r.get_data(as_text=True)

    assert published_costs() == before
    assert summaries() == summary_before

    # Planning again sees the new rates; publishing the same sessions keeps their fixed costs.
    again = plan_and_publish()
    planned = {(s.person.name if s.person else None, s.slot): s.cost_pence for s in again.sessions}
    assert planned[("Bea", "2026-12-30/AM")] == 18000  # 4 h × £45
    assert planned[("Ada", "2026-12-29/AM")] == 60000  # 4 h × £150
    assert planned[("Cal", "2026-12-30/PM")] == 24000  # 4 h × £60
    assert published_costs() == before
    assert summaries() == summary_before


def test_the_hand_costed_ledger_uses_the_costing_rules(ledger: Ledger) -> None:
    """The evening sessions, which the planner's patterns cannot express, are costed by the
    same rule as a slot: rate × minutes / 60, half-up to the penny."""
    from sel_time.plans.scheduling import RateBook, slot_cost_pence

    cal = db.session.get(Person, ledger.directory.cal)
    bea = db.session.get(Person, ledger.directory.bea)
    rates = RateBook()
    evening = slot_cost_pence(rates.pence_per_hour(cal, date(2026, 12, 31)), 90)
    assert evening == HAND_COSTS[("Cal", "2026-12-31/EVE")]
    assert rates.pence_per_hour(bea, date(2026, 12, 31)) == 4100
    assert rates.pence_per_hour(bea, date(2027, 1, 1)) == 4300
