"""The board report's figures are the finance and delivery summaries' own for the same
period, to the penny and the session: against the hand-costed ledger, and against what the
costs and delivery API say."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from io import BytesIO
from typing import Any

import time_machine
from flask.testing import FlaskClient
from openpyxl import load_workbook

from sel_time.core.clock import UTC
from sel_time.progress.board import board_report

from .conftest import FIRST, HAND_COSTS, LAST, PERIOD, Ledger

AFTER = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
IN_PERIOD = {k: v for k, v in HAND_COSTS.items()
             if "2026-12-01" <= k[1][:10] <= "2027-01-31" and k != ("Dan", "2027-01-19/PM")
             and k[1] not in ("2026-12-30/PM", "2027-01-06/PM", "2026-12-29/PM",
                              "2027-01-05/PM")}


def test_board_figures_equal_the_ledger_and_the_finance_and_delivery_api(
        client: FlaskClient, ledger: Ledger, login_as: Callable[..., dict[str, str]]) -> None:
    headers = login_as("finance")
    with time_machine.travel(AFTER, tick=False):
        r = board_report(FIRST, LAST, 11)
        api = client.get("/api/v1/board-report", query_string=PERIOD, headers=headers).json
        costs = client.get("/api/v1/costs", query_string={**PERIOD, "by": "month"},
                           headers=headers).json
        delivery = client.get("/api/v1/delivery", query_string={**PERIOD, "by": "month"},
                              headers=headers).json
    assert api == r
    # To the penny: the hand-costed sessions of December and January (14 attendances).
    assert len(IN_PERIOD) == 14
    assert r["backfill"]["planned"] == sum(IN_PERIOD.values()) / 100
    assert r["backfill"]["planned"] == costs["totals"]["planned"]
    assert r["backfill"]["delivered"] == costs["totals"]["delivered"]
    assert r["backfill"]["budget"] == costs["totals"]["budget"]
    assert r["backfill"]["variance_delivered"] == costs["totals"]["variance_delivered"]
    # To the session.
    rows = delivery["items"]
    assert r["sessions"]["sessions_planned"] == 14 == sum(x["sessions_planned"] for x in rows)
    assert r["sessions"]["sessions_recorded"] == sum(x["sessions_recorded"] for x in rows) == 13
    assert r["sessions"]["sessions_lost"] == sum(x["sessions_lost"] for x in rows) == 2
    assert r["lost_reasons"] == {"Clinical or care pressure": 1, "Sickness": 1, "Other": 0}
    assert costs["totals"]["sessions"] == r["sessions"]["sessions_planned"]
    # Leaders: four role holders, all with protected time rostered in the period.
    assert r["leaders"] == 4 and r["share_with_protected_time"] == 1.0
    assert r["leaders_by_profession"] == {"consultant": 1, "nurse": 2, "social_worker": 1}
    # The Lambeth Place Team met twice; quorum 3, and each time one of three lost or missed it.
    assert (r["team_sessions_held"], r["team_sessions_quorate"]) == (2, 0)


def test_board_report_exports_carry_the_same_figures(
        client: FlaskClient, ledger: Ledger, login_as: Callable[..., dict[str, str]]) -> None:
    headers = login_as("programme_lead")
    with time_machine.travel(AFTER, tick=False):
        r = board_report(FIRST, LAST, 11)
        xlsx = client.get("/api/v1/board-report", headers=headers,
                          query_string={**PERIOD, "format": "xlsx"})
        pdf = client.get("/api/v1/board-report", headers=headers,
                         query_string={**PERIOD, "format": "pdf"})
        bad = client.get("/api/v1/board-report", headers=headers,
                         query_string={"from": "2027-02-01", "to": "2027-01-01"})
    sheet = load_workbook(BytesIO(xlsx.data)).active
    cells: dict[tuple[Any, Any], Any] = {(row[0], row[1]): row[2]
                                         for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells[("Backfill (£)", "Planned")] == r["backfill"]["planned"]
    assert cells[("Sessions", "Planned")] == 14
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "to"
    leader = login_as("leader")
    assert client.get("/api/v1/board-report", headers=leader).status_code == 403
