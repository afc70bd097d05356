"""Where costs and budgets land: a team's sessions and its budget share a row in every
grouping, and names reach the spreadsheets as text, never as formulae."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from openpyxl import load_workbook

from sel_time.core.extensions import db
from sel_time.finance import backfill
from tests.finance.conftest import Directory, publish_by_hand

JANUARY = {"from": "2027-01-01", "to": "2027-01-31"}


def test_a_team_funded_by_a_role_shares_its_rows(
        directory: Directory, make: Callable[..., Any], client: FlaskClient,
        login_as: Callable[..., dict[str, str]]) -> None:
    """The KCH Nursing Board is funded by the Nurse Lead role (budget code KCH-NL) and has no
    budget code of its own, but a budget of £3,650 a year (£10 a day). Its sessions are charged
    to the Nurse Lead and KCH-NL, so its budget must be too."""
    board = make("teams", code="kch-nb", name="KCH Nursing Board", sessions_per="month", quorum=1,
                 funding_role_id=directory.roles["Nurse Lead"], annual_budget="3650.00",
                 member_ids=[directory.bea])
    publish_by_hand("2027-01-14/AM", {directory.bea: 17200}, team=board.id)
    db.session.commit()
    headers = login_as("finance")

    def rows(by: str) -> dict[str, tuple[Any, Any]]:
        doc = client.get("/api/v1/costs", query_string={"by": by, **JANUARY},
                         headers=headers).get_json()
        return {r[by]: (r["planned"], r["budget"]) for r in doc["rows"]}

    # Nurse Lead: 730000 × 31/365 = 62000 of its own, and the board's 365000 × 31/365 = 31000
    assert rows("role")["Nurse Lead"] == (172.00, 930.00)
    assert "Team: KCH Nursing Board" not in rows("role")
    assert rows("budget_code")["KCH-NL"] == (172.00, 930.00)
    assert "(none)" not in rows("budget_code")  # Place Lead has neither sessions nor a budget here
    assert rows("team")["KCH Nursing Board"] == (172.00, 310.00)


def test_names_reach_the_spreadsheets_as_text(
        directory: Directory, make: Callable[..., Any], client: FlaskClient,
        login_as: Callable[..., dict[str, str]]) -> None:
    """A name that begins like a formula (=, +, -, @) is shown as written in the workbook, and
    cannot run in a spreadsheet opening the CSV (OWASP "CSV injection": a leading ')."""
    role = make("roles", host_organisation_id=directory.kch,
                title='=HYPERLINK("http://x.invalid","Pay")',
                annual_budget="365.00")
    assignment = make("assignments", person_id=directory.ada, role_id=role.id,
                      start_date="2026-04-01")
    publish_by_hand("2027-01-12/AM", {directory.ada: 48000}, assignment=assignment.id,
                    person=directory.ada)
    db.session.commit()
    headers = login_as("finance")
    title = '=HYPERLINK("http://x.invalid","Pay")'

    r = client.get("/api/v1/costs/export", query_string={"by": "role", "format": "xlsx", **JANUARY},
                   headers=headers)
    ws = load_workbook(io.BytesIO(r.data))["Role"]
    cells = {c.value: c for c in (ws.cell(row=i, column=1) for i in range(2, ws.max_row + 1))}
    assert cells[title].data_type == "s"
    assert all(c.data_type == "s" for c in cells.values())

    r = client.get("/api/v1/costs/export", query_string={"by": "role", "format": "csv", **JANUARY},
                   headers=headers)
    table = list(csv.reader(io.StringIO(r.get_data(as_text=True).removeprefix("\ufeff"))))
    assert ["'" + title, "1", "4.0", "0.0", "480.00", "0.00", "31.00", "-449.00", "31.00",
            ""] in table
    # Negative figures are numbers, not names: written as they are.
    api = client.get("/api/v1/costs", query_string={"by": "role", **JANUARY},
                     headers=headers).get_json()
    assert [r["role"] for r in api["rows"]].count(title) == 1
    assert date(2027, 1, 31).isoformat() == api["to"]
    assert backfill.GROUPINGS["role"] == table[0][0]


def test_departments_of_the_same_name_stay_apart(
        directory: Directory, make: Callable[..., Any]) -> None:
    """Every council has an Adult Social Care, every trust a Pharmacy: grouping by department
    must not add one organisation's to another's."""
    lambeth_nursing = make("departments", organisation_id=directory.lambeth, code="lbl-cn",
                           name="Community Nursing")
    eve = make("people", organisation_id=directory.lambeth, department_id=lambeth_nursing.id,
               name="Eve", profession="nurse", band="7")
    publish_by_hand("2027-01-13/AM", {directory.bea: 17200}, team=directory.team)
    publish_by_hand("2027-01-20/AM", {eve.id: 17200}, team=directory.team)
    db.session.commit()
    s = backfill.summarise(["department"], date(2027, 1, 1), date(2027, 1, 31))
    assert [(r.keys, r.planned) for r in s.rows] == [
        (("Community Nursing, King's College Hospital",), 17200),
        (("Community Nursing, London Borough of Lambeth",), 17200)]
