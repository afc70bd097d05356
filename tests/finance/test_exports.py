"""Exports finance can use: the XLSX workbook and the CSV carry exactly the API's figures; the
``sel-time costs`` command; who may read costs; and the errors a bad request gets."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook

from sel_time.finance import backfill
from tests.finance.conftest import PERIOD, Ledger

PROBLEM = "application/problem+json"
ALL = list(backfill.GROUPINGS)


@pytest.fixture()
def finance_user(login_as: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login_as("finance")


def api(client: FlaskClient, headers: dict[str, str], by: list[str],
        **extra: str) -> dict[str, Any]:
    r = client.get("/api/v1/costs", query_string={"by": ",".join(by), **PERIOD, **extra},
                   headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def expected_sheet(doc: dict[str, Any]) -> list[list[Any]]:
    """The cells a sheet should hold for the API's answer: header, rows, totals."""
    by = doc["by"]
    head = [backfill.GROUPINGS[g] for g in by] + [backfill.HEADINGS[c] for c in backfill.COLUMNS]
    rows = [[row[g] for g in by] + [row[c] for c in backfill.COLUMNS] for row in doc["rows"]]
    total = ["Total"] + [None] * (len(by) - 1) + [doc["totals"][c] for c in backfill.COLUMNS]
    return [head, *rows, total]


def sheet_cells(ws: Any) -> list[list[Any]]:
    return [[None if c.value == "" else c.value for c in row] for row in ws.iter_rows()]


def check_workbook(data: bytes, client: FlaskClient, headers: dict[str, str], by: list[str],
                   **extra: str) -> None:
    wb = load_workbook(io.BytesIO(data))
    titles = [backfill.GROUPINGS[g] for g in by]
    combined = [" × ".join(titles)[:31]] if len(by) > 1 else []
    assert wb.sheetnames == titles + combined + ["About"]
    sheets = [([g], t) for g, t in zip(by, titles)] + [(by, name) for name in combined]
    for grouping, name in sheets:
        ws = wb[name]
        doc = api(client, headers, grouping, **extra)
        assert sheet_cells(ws) == expected_sheet(doc), name  # every cell, totals row included
        assert ws.freeze_panes == "A2"
        first_figure = len(grouping) + 1
        for col, column in enumerate(backfill.COLUMNS, start=first_figure):
            for r in range(2, ws.max_row + 1):
                fmt = ws.cell(row=r, column=col).number_format
                if column in backfill.MONEY:
                    assert "£" in fmt and "0.00" in fmt, (name, column, fmt)
                else:
                    assert "£" not in fmt
        assert all(cell.font.b for cell in ws[1]) and all(cell.font.b for cell in ws[ws.max_row])
    about = wb["About"]
    first, last = about["B1"], about["B2"]
    assert (about["A1"].value, about["A2"].value) == ("Period from", "Period to")
    assert first.is_date and last.is_date
    assert (first.value, last.value) == (datetime(2026, 12, 1), datetime(2027, 1, 31))
    assert first.number_format == last.number_format == "yyyy-mm-dd"


def test_the_xlsx_export_holds_the_apis_figures_on_a_sheet_per_grouping(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    r = client.get("/api/v1/costs/export", headers=finance_user,
                   query_string={"by": ",".join(ALL), "format": "xlsx", **PERIOD})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "sel-time-backfill-organisation-department" in r.headers["Content-Disposition"]
    check_workbook(r.data, client, finance_user, ALL)


def test_the_xlsx_export_of_one_organisation(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    r = client.get("/api/v1/costs/export", headers=finance_user,
                   query_string={"by": "role,month", "format": "xlsx", "organisation": "lbl",
                                 **PERIOD})
    assert r.status_code == 200, r.get_data(as_text=True)
    check_workbook(r.data, client, finance_user, ["role", "month"], organisation="lbl")
    assert load_workbook(io.BytesIO(r.data))["About"]["B3"].value == "lbl"


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def expected_csv(doc: dict[str, Any]) -> list[list[str]]:
    def cell(v: Any, column: str) -> str:
        if v is None:
            return ""
        return f"{v:.2f}" if column in backfill.MONEY else str(v)
    out = []
    for i, row in enumerate(expected_sheet(doc)):
        if i == 0:
            out.append(row)
            continue
        n = len(doc["by"])
        out.append(["" if v is None else str(v) for v in row[:n]]
                   + [cell(v, c) for v, c in zip(row[n:], backfill.COLUMNS)])
    return out


def test_the_csv_export_holds_the_apis_figures(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    for by in (["organisation"], ["role", "quarter"], ["department"]):
        r = client.get("/api/v1/costs/export", headers=finance_user,
                       query_string={"by": ",".join(by), "format": "csv", **PERIOD})
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.mimetype == "text/csv"
        text = r.get_data(as_text=True)
        assert text.startswith("\ufeff")  # so that Excel reads the £ signs as UTF-8
        assert parse_csv(text) == expected_csv(api(client, finance_user, by))
    # The money is written to the penny, never as 3505.5
    assert parse_csv(text)[-1][:4] == ["Total", "14", "51.0", "29.83"]
    assert "3505.50" in parse_csv(text)[-1]


def test_the_costs_command_writes_csv_a_table_and_xlsx(
        ledger: Ledger, runner: FlaskCliRunner, client: FlaskClient, finance_user: dict[str, str],
        tmp_path: Path) -> None:
    period = ["--from", PERIOD["from"], "--to", PERIOD["to"]]
    out = tmp_path / "costs.csv"
    result = runner.invoke(args=["sel-time", "costs", "--by", "org,month", "--format", "csv",
                                 "-o", str(out), *period])
    assert result.exit_code == 0, result.output
    assert parse_csv(out.read_text(encoding="utf-8")) == expected_csv(
        api(client, finance_user, ["organisation", "month"]))

    result = runner.invoke(args=["sel-time", "costs", "--by", "org,month", "--format", "table",
                                 *period])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["Organisation", "Month"]
    total = lines[-1].split()
    assert total[0] == "Total" and total[1:] == ["14", "3,505.50", "2,009.32", "7,779.73",
                                                 "4,274.23"]
    kch_dec = next(line for line in lines
                   if line.startswith("King's College Hospital") and "2026-12" in line)
    # Ada and Bea in December: 48000+48000+16400+16400 planned, 48000+48000+8200+16400 delivered,
    # budget 310000 + 62000 (no remainder to share), 3720.00 − 1288.00 = 2432.00
    assert kch_dec.split()[-5:] == ["4", "1,288.00", "1,206.00", "3,720.00", "2,432.00"]

    xlsx = tmp_path / "costs.xlsx"
    result = runner.invoke(args=["sel-time", "costs", "--by", "org,month", "--format", "xlsx",
                                 "-o", str(xlsx), *period])
    assert result.exit_code == 0, result.output
    check_workbook(xlsx.read_bytes(), client, finance_user, ["organisation", "month"])


def test_the_costs_command_names_a_bad_grouping(ledger: Ledger, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["sel-time", "costs", "--by", "org,colour"])
    assert result.exit_code == 2
    assert "by:" in result.output and '"colour"' in result.output
    result = runner.invoke(args=["sel-time", "costs", "--format", "xlsx"])
    assert result.exit_code == 2 and "-o FILE" in result.output


def assert_problem(r: Any, status: int, field: str) -> None:
    body = r.get_data(as_text=True)
    assert r.status_code == status, body
    assert r.mimetype == PROBLEM, body
    assert field in {e["field"] for e in r.get_json().get("errors", [])}, body


def test_bad_requests_name_the_field(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    for path in ("/api/v1/costs", "/api/v1/costs/export"):
        def get(**q: str) -> Any:
            return client.get(path, query_string=q, headers=finance_user)  # noqa: B023

        assert_problem(get(by="organisation,colour"), 422, "by")
        assert_problem(get(by=","), 422, "by")
        assert_problem(get(**{"from": "01/12/2026"}), 400, "from")
        assert_problem(get(to="2027-02-30"), 400, "to")
        assert_problem(get(**{"from": "2027-01-31", "to": "2026-12-01"}), 422, "to")
        assert_problem(get(organisation="nowhere"), 422, "organisation")
        if path.endswith("export"):
            assert_problem(get(format="pdf"), 400, "format")


def test_leaders_may_not_read_costs_finance_rota_managers_and_admins_may(
        ledger: Ledger, client: FlaskClient, login_as: Callable[..., dict[str, str]]) -> None:
    paths = ("/api/v1/costs", "/api/v1/costs/export?format=csv", "/api/v1/costs/export?format=xlsx")
    for role, status in (("leader", 403), ("finance", 200), ("rota_manager", 200), ("admin", 200)):
        headers = login_as(role, ledger.directory.ada if role == "leader" else None)
        for path in paths:
            r = client.get(path, headers=headers)
            assert r.status_code == status, (role, path, r.get_data(as_text=True)[:300])
            if status == 403:
                assert r.mimetype == PROBLEM
    leader = login_as("leader", ledger.directory.bea)
    r = client.post("/api/v1/costs/whatif", json={"start": "2026-12-28"}, headers=leader)
    assert r.status_code == 403 and r.mimetype == PROBLEM
    for path in paths:
        assert client.get(path).status_code == 401
