"""Ideas (named or anonymous, supported, moderated) and training programmes (modules held in
the cohort's rostered sessions, attendance from delivery records, completion, the cohort's
mix of professions and its aspiring leaders), and the programme lead role's reach."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.delivery.recording import record_delivery
from sel_time.models import (
    Attendance,
    AuditEvent,
    ProtectedSession,
    RosterStatus,
    User,
    UserRole,
)
from sel_time.progress.models import Idea


def test_an_anonymous_idea_keeps_no_trace_of_its_author(
        client: FlaskClient, login_as: Callable[..., dict[str, str]]) -> None:
    leader = login_as("leader")
    other = login_as("leader")
    lead = login_as("programme_lead")
    named = client.post("/api/v1/ideas", headers=leader,
                        json={"title": "Unbookable leadership time", "body": "Block it."}).json
    anon = client.post("/api/v1/ideas", headers=leader, json={
        "title": "A backfill pool", "body": "Shared cover.", "anonymous": True}).json
    assert named["author"] is not None and anon["author"] is None and anon["anonymous"]
    idea = db.session.get(Idea, anon["id"])
    assert idea is not None and idea.author_id is None
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "idea")).all()
    assert len(audit) == 1  # the named idea's; the anonymous one left none
    supported = client.post(f"/api/v1/ideas/{anon['id']}/support", headers=other).json
    assert supported["supporters"] == 1 and supported["supported_by_me"]
    twice = client.post(f"/api/v1/ideas/{anon['id']}/support", headers=other)
    assert twice.status_code == 409
    refused = client.patch(f"/api/v1/ideas/{anon['id']}", headers=leader,
                           json={"status": "adopted"})
    assert refused.status_code == 403
    bad = client.patch(f"/api/v1/ideas/{anon['id']}", headers=lead, json={"status": "maybe"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "status"
    done = client.patch(f"/api/v1/ideas/{anon['id']}", headers=lead,
                        json={"status": "adopted", "note": "In the 2027 job plans"}).json
    assert done["status"] == "adopted" and done["moderation_note"] == "In the 2027 job plans"
    empty = client.post("/api/v1/ideas", headers=leader, json={"title": "", "body": ""})
    assert empty.status_code == 422
    assert {e["field"] for e in empty.json["errors"]} == {"title", "body"}


def test_a_programme_reports_attendance_completion_and_its_mix(
        app: Flask, client: FlaskClient, make: Callable[..., Any],
        login_as: Callable[..., dict[str, str]]) -> None:
    role = make("roles")
    leader = make("people", name="Ada Lead", profession="consultant", band=None)
    aspiring = make("people", name="Ben Frontline", profession="nurse")
    make("assignments", person_id=leader.id, role_id=role.id, start_date="2026-01-01")
    cohort = make("teams", kind="training_cohort", name="Fellows",
                  member_ids=[leader.id, aspiring.id])
    lead = login_as("programme_lead")
    made = client.post("/api/v1/programmes", headers=lead, json={
        "name": "SEL Fellows", "kind": "system_course", "team_id": cohort.id,
        "modules": ["Leading across a system", "Coaching"], "completion_modules": 2})
    assert made.status_code == 201, made.json
    not_cohort = make("teams", kind="leadership_team")
    refused = client.post("/api/v1/programmes", headers=lead, json={
        "name": "X", "kind": "system_course", "team_id": not_cohort.id, "modules": ["A"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "team_id"
    # Two rostered cohort sessions, in the past; Ada takes both, Ben loses the second.
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    for i in range(2):
        at = start + timedelta(days=7 * i)
        db.session.add(ProtectedSession(
            uid=f"cohort-{i}", team_id=cohort.id, slot=f"{at:%Y-%m-%d}/AM", start_at=at,
            end_at=at + timedelta(hours=4), status=RosterStatus.CONFIRMED,
            published_at=start, last_modified=start,
            attendances=[Attendance(person_id=leader.id), Attendance(person_id=aspiring.id)]))
    db.session.commit()
    outcomes = {(0, leader.id): "taken", (1, leader.id): "partial", (0, aspiring.id): "taken",
                (1, aspiring.id): "lost_clinical_pressure"}
    for s in db.session.scalars(sa.select(ProtectedSession).order_by(ProtectedSession.start_at)):
        index = int(s.uid.split("-")[1])
        for a in s.attendances:
            record_delivery(a, outcomes[(index, a.person_id)],
                            0.5 if outcomes[(index, a.person_id)] == "partial" else None, None,
                            CLI_ACTOR, now=datetime(2026, 10, 20, tzinfo=UTC))
    db.session.commit()
    r = client.get(f"/api/v1/programmes/{made.json['id']}", headers=lead).json
    assert [m["date"] for m in r["modules"]] == ["2026-10-01", "2026-10-08"]
    members = {m["person"]: m for m in r["members"]}
    assert members["Ada Lead"]["completed"] and not members["Ben Frontline"]["completed"]
    assert members["Ben Frontline"]["aspiring"] and not members["Ada Lead"]["aspiring"]
    assert (r["enrolled"], r["completed"], r["aspiring"]) == (2, 1, 1)
    assert r["attendance_rate"] == 0.75
    assert r["profession_mix"] == {"Medical": 1, "Nursing and midwifery": 1}


def test_the_programme_lead_role_reaches_progress_and_not_the_rota(
        app: Flask, client: FlaskClient) -> None:
    user = User(email="pl@example.nhs.uk", name="Pat Lead", role=UserRole.PROGRAMME_LEAD)
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/").headers["Location"].endswith("/progress")
    assert client.get("/progress").status_code == 200
    assert client.get("/progress/board").status_code == 200
    assert client.get("/ideas").status_code == 200
    assert client.get("/progress/programmes").status_code == 200
    assert client.get("/manage/plans").status_code == 403
