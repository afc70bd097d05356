"""Fairness across professions: the problem names each person's profession and organisation,
the fairness weight reaches it, the plan and finance pages show each profession's share of
its entitlement met, and with fairness on a scarce slot's shortfall is split across
professions."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import Plan, User, UserRole
from sel_time.plans.fairness import plan_profession_shares, profession_label, profession_shares
from sel_time.plans.scheduling import Scope, build_problem
from tests.planning.conftest import START, WEEKS, Small, weekdays


def _signed_in(app: Flask, role: UserRole) -> FlaskClient:
    user = User(email=f"{role.value}@fairness.test", name=role.value, role=role)
    db.session.add(user)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


def _rows(html: str) -> dict[str, list[str]]:
    """The professions' table as {profession: [entitled, planned, short, share]}."""
    table = html.split('id="profession-shares"', 1)[1].split("</table>", 1)[0]
    out = {}
    for row in re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", table, re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", c).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        out[cells[0]] = cells[1:]
    return out


def test_each_person_is_in_their_profession_and_organisation(app: Flask, small: Small) -> None:
    app.config["FAIRNESS_WEIGHT"] = 7.5
    built = build_problem(START, WEEKS, Scope("system"))
    groups = {p["name"]: p["groups"] for p in built.problem["people"]}
    assert groups == {"Ada Okafor": ["profession:consultant", "org:kch"],
                      "Ben Adeyemi": ["profession:consultant", "org:kch"],
                      "Cara Mensah": ["profession:nurse", "org:kch"]}
    assert built.problem["weights"]["fairness"] == 7.5


def test_the_plan_and_finance_pages_show_each_professions_share(
        app: Flask, small: Small, solve_plan: Callable[..., Plan],
        client: FlaskClient, rota: dict[str, str]) -> None:
    # Each role asks for a session a week: 1 in week 1, and 1 in week 2 (4 working days
    # after the bank holiday: 0.8, rounded cumulatively). Cara is on leave all week 2.
    plan = solve_plan()
    assert sorted(plan.solution["groups"], key=lambda g: g["group"]) == [
        {"group": "org:kch", "entitled": 6, "short": 1},
        {"group": "profession:consultant", "entitled": 4, "short": 0},
        {"group": "profession:nurse", "entitled": 2, "short": 1}]
    shares = plan_profession_shares(plan)
    assert shares is not None and shares.spread == 50.0
    expected = {"Nurse": ["2", "1", "1", "50.0%"], "Consultant": ["4", "4", "0", "100.0%"]}

    page = _signed_in(app, UserRole.ROTA_MANAGER).get(f"/manage/plans/{plan.id}")
    html = page.get_data(as_text=True)
    assert _rows(html) == expected
    assert list(_rows(html)) == ["Nurse", "Consultant"]  # worst served first
    assert "<caption" in html.split('id="profession-shares"', 1)[1][:200]
    assert "50.0 percentage points" in html

    assert client.post(f"/api/v1/plans/{plan.id}/publish", headers=rota).status_code == 200
    finance = _signed_in(app, UserRole.FINANCE)
    html = finance.get("/finance?from=2027-04-01&to=2027-05-31").get_data(as_text=True)
    assert _rows(html) == expected
    later = finance.get("/finance?from=2027-06-01&to=2027-06-30").get_data(as_text=True)
    assert 'id="profession-shares"' not in later


def test_with_fairness_on_a_scarce_slot_is_shared_across_professions(
        app: Flask, make: Callable[..., Any], solve_plan: Callable[..., Plan]) -> None:
    # A nurse and a consultant in one department that lets one away at a time, both working
    # only Monday and Tuesday mornings, each asking for 2 sessions in the week: 2 of the 4
    # sessions fit. Off, both go to the nurse (cheaper cover); on, one each.
    org = make("organisations", code="gst", name="Guy's and St Thomas'")
    dept = make("departments", organisation_id=org.id, code="gst-amu", max_away=1)
    make("rates", staff_group="consultant", label="Consultant", rate_per_hour="100.00",
         effective_from="2027-01-01", source="test figures")
    make("rates", staff_group="afc_band_8a", label="Band 8a", rate_per_hour="60.00",
         effective_from="2027-01-01", source="test figures")
    for name, profession, band in (("Dee", "consultant", None), ("Eve", "nurse", "8a")):
        person = make("people", organisation_id=org.id, department_id=dept.id, name=name,
                      profession=profession, band=band,
                      pattern=weekdays("Mon", "Tue", halves=("AM",)))
        role = make("roles", host_organisation_id=org.id, title=f"{name}'s role",
                    commitment_amount=2, commitment_unit="session", commitment_per="week")
        make("assignments", person_id=person.id, role_id=role.id, start_date="2027-01-01")

    def shares() -> dict[str, tuple[int, int]]:
        plan = solve_plan(weeks=1)
        result = plan_profession_shares(plan)
        assert result is not None
        return {r.profession: (r.entitled, r.short) for r in result.rows}

    app.config["FAIRNESS_WEIGHT"] = 0.0
    assert shares() == {"consultant": (2, 2), "nurse": (2, 0)}
    app.config["FAIRNESS_WEIGHT"] = 10.0
    assert shares() == {"consultant": (2, 1), "nurse": (2, 1)}


def test_shares_sum_solutions_and_name_professions_in_words() -> None:
    shares = profession_shares([
        {"group": "profession:sas_doctor", "entitled": 10, "short": 1},
        {"group": "org:kch", "entitled": 10, "short": 1},
        {"group": "profession:sas_doctor", "entitled": 10, "short": 3},
        {"group": "profession:ahp", "entitled": 0, "short": 0}])
    assert shares is not None
    [row] = shares.rows
    assert (row.label, row.entitled, row.planned, row.short, row.share) == (
        "SAS doctor", 20, 16, 4, 80.0)
    assert shares.spread == 0.0
    assert profession_shares([{"group": "org:kch", "entitled": 3, "short": 0}]) is None
    assert profession_label("social_worker") == "Social worker"
    assert profession_label("council-ot") == "Council-ot"
