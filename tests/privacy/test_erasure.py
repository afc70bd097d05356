"""Erasing a leaver: finance and delivery figures identical to the penny and the session, the
person's name, e-mail and free text nowhere in the database, their links dead, their sign-in
impossible, and the erasure audited."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.delivery.recording import planned_vs_delivered
from sel_time.finance.backfill import summarise, summary_json
from sel_time.models import AuditEvent, Person, User
from sel_time.privacy import erase_person

from .conftest import DELIVERY_NOTE, LEAVE_NOTE, PASSWORD, Leaver

GROUPINGS = ["organisation", "department", "profession", "staff_group", "role", "team",
             "budget_code", "month", "quarter", "year"]
FIRST, LAST = date(2024, 1, 1), date(2028, 12, 31)


def _figures() -> dict[str, Any]:
    db.session.expire_all()
    out: dict[str, Any] = {}
    for by in GROUPINGS:
        out[f"costs by {by}"] = summary_json(summarise([by], FIRST, LAST))
    out["costs by organisation,profession,month"] = summary_json(
        summarise(["organisation", "profession", "month"], FIRST, LAST))
    for by in ("role", "profession", "organisation", "month"):
        out[f"delivery by {by}"] = planned_vs_delivered(by, None, None)
    return out


def _everything_in_the_database() -> str:
    """Every value of every column of every table, as one lower-case text."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            for value in row:
                if isinstance(value, (bytes, memoryview)):
                    value = bytes(value).replace(b"\r\n ", b"").decode("utf-8", "replace")
                parts.append(str(value))
    return "\n".join(parts).lower()


@pytest.mark.slow
def test_erasure_keeps_every_total_and_leaves_no_trace(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    assert client.get(leaver.feed_path).status_code == 200  # renders the feed (full path)
    assert client.get(leaver.feed_path).status_code == 200  # from the cache (fast path)
    before = _figures()
    everything = _everything_in_the_database()
    for needle in (leaver.name, leaver.email, LEAVE_NOTE, DELIVERY_NOTE):
        assert needle.lower() in everything, needle  # the test can see them before

    report = erase_person(leaver.person_id, CLI_ACTOR)
    db.session.commit()

    assert _figures() == before  # to the penny and the session
    everything = _everything_in_the_database()
    for needle in (leaver.name, leaver.email, LEAVE_NOTE, DELIVERY_NOTE, "Okafor"):
        assert needle.lower() not in everything, needle
    person = db.session.get(Person, leaver.person_id)
    assert person is not None and person.name == report.pseudonym and not person.active
    assert "Ben Adeyemi" in _everything_in_the_database().title()  # nobody else is touched
    # Links dead, sign-in impossible, API token refused.
    assert client.get(leaver.feed_path).status_code == 404
    signed_in = client.post("/login", data={"email": leaver.email, "password": PASSWORD})
    assert signed_in.status_code == 400
    assert client.get("/api/v1/me/data",
                      headers={"Authorization": f"Bearer {leaver.api_token}"}).status_code == 401
    user = db.session.get(User, leaver.user_id)
    assert user is not None and not user.active and user.password_hash is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "erase"))
    assert event is not None and event.entity_id == str(leaver.person_id)


def test_the_admin_page_asks_for_confirmation_then_erases(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    client.post("/login", data={"email": "admin@privacy.test", "password": PASSWORD})
    path = f"/manage/people/{leaver.person_id}/erase"
    assert f'href="{path}"' in client.get(f"/manage/people/{leaver.person_id}").get_data(
        as_text=True)  # from the person's page
    page = client.get(path)
    assert page.status_code == 200 and "This cannot be undone" in page.get_data(as_text=True)
    refused = client.post(path, data={"confirm_email": "someone@else"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "There is a problem" in html
    assert 'href="#understood"' in html and 'href="#confirm_email"' in html
    db.session.expire_all()
    assert db.session.get(Person, leaver.person_id).name == leaver.name  # nothing erased
    done = client.post(path, data={"understood": "yes", "confirm_email": leaver.email.upper()})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, leaver.person_id).name == f"Erased person {leaver.person_id}"
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "erase"))
    assert audit is not None and audit.user_id == leaver.admin_id


def test_only_an_admin_may_erase(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    client.post("/login", data={"email": leaver.email, "password": PASSWORD})
    assert client.get(f"/manage/people/{leaver.small.ben}/erase").status_code == 403
    api = client.post(f"/api/v1/people/{leaver.small.ben}/erasure", json={"confirm": True},
                      headers={"Authorization": f"Bearer {leaver.api_token}"})
    assert api.status_code == 403


def test_the_api_and_the_command_erase_when_confirmed(app: Flask, leaver: Leaver) -> None:
    client = app.test_client()
    admin = {"Authorization": f"Bearer {leaver.admin_token}"}
    unconfirmed = client.post(f"/api/v1/people/{leaver.small.ben}/erasure", json={}, headers=admin)
    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.get_data(as_text=True)
    missing = client.post("/api/v1/people/99999/erasure", json={"confirm": True}, headers=admin)
    assert missing.status_code == 404
    done = client.post(f"/api/v1/people/{leaver.small.ben}/erasure", json={"confirm": True},
                       headers=admin)
    assert done.status_code == 200 and done.get_json()["pseudonym"].startswith("Erased person")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sel-time", "privacy", "erase", "dev@nhs.net", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased person" in result.output
    db.session.expire_all()
    assert db.session.get(Person, leaver.small.dev).email.endswith("@erased.invalid")
    unknown = runner.invoke(args=["sel-time", "privacy", "erase", "nobody@nhs.net", "--yes"])
    assert unknown.exit_code == 2 and "No person" in unknown.output


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_the_export_command_writes_a_file(app: Flask, leaver: Leaver, tmp_path: Any,
                                          fmt: str) -> None:
    out = tmp_path / f"ada.{fmt}"
    result = app.test_cli_runner().invoke(
        args=["sel-time", "privacy", "export", str(leaver.person_id), "--format", fmt,
              "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 100
