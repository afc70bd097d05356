"""The programme lead's pages: building a survey (errors in the NHS error summary, naming the
field), opening a wave, the results page and its XLSX, and the board report's period."""
from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from openpyxl import load_workbook

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import User, UserRole
from sel_time.progress import surveys
from sel_time.progress.models import Survey, Wave

from .test_surveys import _answer, _q


def _sign_in(client: FlaskClient) -> None:
    # The test app context outlives each request, and Flask-Login keeps the user it loaded
    # on ``g``: forget the anonymous one an earlier request (answering a survey) left there.
    g.pop("_login_user", None)
    user = User(email="lead@example.nhs.uk", name="Pat Lead", role=UserRole.PROGRAMME_LEAD)
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def test_building_a_survey_names_each_wrong_field(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    _sign_in(client)
    r = client.post("/progress/surveys", data={"title": "", "cadence": "weekly",
                                               "days_open": "200"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "There is a problem" in page
    for field in ("#title", "#cadence", "#days_open", "#questions"):
        assert f'href="{field}"' in page
    assert db.session.scalar(sa.select(sa.func.count(Survey.id))) == 0
    ok = client.post("/progress/surveys", data={"title": "Baseline", "cadence": "once",
                                                "questions": ["time-protected", "team-time"]})
    assert ok.status_code == 302
    sid = db.session.scalar(sa.select(Survey.id))
    opened = client.post(f"/progress/surveys/{sid}/waves", follow_redirects=True)
    assert "Results are hidden while the wave is open" in opened.get_data(as_text=True)


def test_results_page_and_xlsx_mark_withheld_cells(
        app: Flask, client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]], login_as: Callable[..., dict[str, str]]) -> None:
    wave, tokens = wave_with_links()
    wave_id, q1 = wave.id, _q(wave, 1)
    for i, p in enumerate(people["nurse"][:14] + people["gp"][:2]):
        _answer(client, tokens[p.id], **{q1: str(1 + i % 5)})
    surveys.close_wave(db.session.get(Wave, wave_id), CLI_ACTOR)
    db.session.commit()
    lead = app.test_client()
    _sign_in(lead)
    page = lead.get(f"/progress/waves/{wave_id}").get_data(as_text=True)
    assert "sel-withheld" in page and "fewer than 11 responses" in page
    assert 'id="trend-chart"' in page and "<svg" in page
    headers = login_as("programme_lead")
    xlsx = client.get(f"/api/v1/waves/{wave_id}/results/export?format=xlsx", headers=headers)
    rows = list(load_workbook(BytesIO(xlsx.data)).worksheets[0].iter_rows(values_only=True))
    by_prof = [r for r in rows if r[2] == "Profession group"]
    assert {r[3] for r in by_prof} == {"Nursing and midwifery", "Combined: Medical, Social care"}
    assert all(str(r[4]).startswith("withheld") for r in by_prof)  # 2 of 16: both withheld
    assert client.get(f"/api/v1/waves/{wave_id}/results/export?format=doc",
                      headers=headers).status_code == 400


def test_the_board_page_names_a_bad_period(app: Flask, client: FlaskClient) -> None:
    _sign_in(client)
    r = client.get("/progress/board?from=2027-02-01&to=2027-01-01")
    assert r.status_code == 400 and 'href="#to"' in r.get_data(as_text=True)
    r = client.get("/progress/board?from=yesterday")
    assert r.status_code == 400 and 'href="#from"' in r.get_data(as_text=True)
    ok = client.get("/progress/board?from=2026-04-01&to=2027-03-31")
    assert ok.status_code == 200 and "board-pdf" in ok.get_data(as_text=True)
