"""A leader's own data in one click: everything held about them, JSON and XLSX, from the account
page and the API; the export holds every row of every table that points at them."""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from sel_time.core.extensions import db
from sel_time.models import AuditEvent
from sel_time.privacy import subject_data

from .conftest import DELIVERY_NOTE, LEAVE_NOTE, PASSWORD, Leaver


def _rows_pointing_at(table: sa.Table, parent: str, ids: list[int]) -> set[tuple[Any, ...]]:
    pk = list(table.primary_key.columns)
    found: set[tuple[Any, ...]] = set()
    for fk in table.foreign_keys:
        if fk.column.table.name == parent:
            found |= {tuple(r) for r in db.session.execute(
                sa.select(*pk).where(fk.parent.in_(ids))).all()}
    return found


def test_the_export_holds_every_row_about_the_person(app: Flask, leaver: Leaver) -> None:
    """Walk every table of the model: each row with a foreign key to the person, their user or
    their role holdings is in the export, and so is every audit entry about those rows."""
    data = subject_data(person_id=leaver.person_id)
    assert data.user_ids == [leaver.user_id]
    assignments = sorted(r["id"] for r in data.tables["role_assignment"])
    assert assignments
    walked = 0
    for table in db.metadata.sorted_tables:
        expected = (_rows_pointing_at(table, "person", [leaver.person_id])
                    | _rows_pointing_at(table, "app_user", [leaver.user_id])
                    | _rows_pointing_at(table, "role_assignment", assignments))
        if table.name in ("person", "app_user"):
            expected |= {(leaver.person_id if table.name == "person" else leaver.user_id,)}
        if expected:
            walked += 1
            assert expected <= data.keys(table.name), table.name
    assert walked >= 10  # person, user, leave, pattern, preferences, holdings, sessions, ...
    for name in ("absence", "pattern_session", "avoid_preference", "attendance", "team_member",
                 "feed_token", "api_token", "protected_session", "plan_session", "audit_event"):
        assert data.tables.get(name), name
    about_leave = db.session.scalars(sa.select(AuditEvent.id).where(
        AuditEvent.entity == "absences")).all()
    assert set(about_leave) <= {r["id"] for r in data.tables["audit_event"]}
    # No secret, and nobody else's person record.
    text = json.dumps(data.as_json())
    secrets = db.session.execute(sa.text(
        "SELECT token_hash FROM api_token UNION ALL SELECT token_hash FROM feed_token "
        "UNION ALL SELECT password_hash FROM app_user WHERE password_hash IS NOT NULL")).scalars()
    assert not [s for s in secrets if s in text]
    assert all("token_hash" not in row for row in data.tables["api_token"])
    assert "Ben Adeyemi" not in {r.get("name") for r in data.tables["person"]}
    assert [r["id"] for r in data.tables["person"]] == [leaver.person_id]


def test_download_my_data_from_the_account_page(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    client.post("/login", data={"email": leaver.email, "password": PASSWORD})
    page = client.get("/account/data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Download my data (JSON)" in html and "Download my data (spreadsheet)" in html
    assert 'href="/account/data"' in html  # in the header of every page
    got = client.get("/account/data.json")
    assert got.status_code == 200
    assert "attachment" in got.headers["Content-Disposition"]
    body = got.get_json()
    assert body["format"] == "sel-time/subject-access@1"
    assert body["tables"]["person"][0]["email"] == leaver.email
    assert LEAVE_NOTE in got.get_data(as_text=True)
    assert DELIVERY_NOTE in got.get_data(as_text=True)
    sheet = client.get("/account/data.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.get_data()), read_only=True)
    assert {"About", "person", "absence", "attendance", "audit_event"} <= set(book.sheetnames)
    notes = [row for row in book["absence"].iter_rows(values_only=True)]
    assert any(LEAVE_NOTE in row for row in notes)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "subject_access_export", AuditEvent.user_id == leaver.user_id)) == 2


def test_the_api_gives_your_own_data_and_an_admin_anyones(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    mine = client.get("/api/v1/me/data", headers={"Authorization": f"Bearer {leaver.api_token}"})
    assert mine.status_code == 200
    assert mine.get_json()["person_id"] == leaver.person_id
    xlsx = client.get("/api/v1/me/data?format=xlsx",
                      headers={"Authorization": f"Bearer {leaver.api_token}"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    bad = client.get("/api/v1/me/data?format=pdf",
                     headers={"Authorization": f"Bearer {leaver.api_token}"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "format" in bad.get_data(as_text=True)
    other = f"/api/v1/people/{leaver.small.ben}/data"
    assert client.get(other, headers={"Authorization": f"Bearer {leaver.api_token}"}
                      ).status_code == 403
    ben = client.get(other, headers={"Authorization": f"Bearer {leaver.admin_token}"})
    assert ben.status_code == 200 and ben.get_json()["tables"]["person"][0]["name"] == \
        "Ben Adeyemi"
    assert client.get("/api/v1/me/data").status_code == 401


def test_the_privacy_notice_states_what_is_held_why_and_for_how_long(app: Flask) -> None:
    app.config["RETAIN_OUTBOX_DAYS"] = 45
    page = app.test_client().get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What is held" in html and "Why it is held" in html and "public task" in html
    assert "45 days" in html and "2190 days" in html
