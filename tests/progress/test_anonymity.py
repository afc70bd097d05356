"""Anonymous like a ballot box, tested as an attacker would: the schema has no path from an
answer to a person; the OpenAPI document has no route that takes or returns a ballot's id;
and every page, API route and export, read as an administrator and as a programme lead after
people have answered, shows no ballot id, no respondent next to an answer, and no trace of
an answer in the audit trail."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import AuditEvent, User, UserRole
from sel_time.progress import surveys
from sel_time.progress.models import Answer, Response

from .test_surveys import _answer, _q

BALLOT_TABLES = {"survey_response", "survey_answer"}
IDENTIFYING = {"person", "app_user", "survey_invitation", "api_token", "audit_event"}


def _references() -> dict[str, set[str]]:
    return {t.name: {fk.column.table.name for fk in t.foreign_keys}
            for t in db.metadata.sorted_tables}


def test_no_foreign_key_path_leads_from_a_ballot_to_a_person(app: Flask) -> None:
    refs = _references()
    reachable, todo = set(), list(BALLOT_TABLES)
    while todo:
        table = todo.pop()
        for target in refs[table] - reachable:
            reachable.add(target)
            todo.append(target)
    # Outwards a ballot reaches its wave, survey and questions: never anyone.
    assert reachable & IDENTIFYING == set()
    assert reachable <= {"survey_wave", "survey", "survey_question", "survey_response"}
    # Inwards only its own answers point at a ballot.
    pointing = {t for t, targets in refs.items() if targets & BALLOT_TABLES}
    assert pointing == {"survey_answer"}


def test_a_ballot_holds_no_time_finer_than_the_day_and_no_identity(app: Flask) -> None:
    for table in BALLOT_TABLES:
        for column in db.metadata.tables[table].columns:
            assert not isinstance(column.type, sa.DateTime), f"{table}.{column.name} is a time"
            assert not isinstance(column.type, sa.types.TypeDecorator) or not isinstance(
                column.type.impl, sa.DateTime), f"{table}.{column.name} is a time"
            assert not re.search(r"person|user|invit|token|email|name|ip_|address|staff",
                                 column.name), f"{table}.{column.name}"
    # Ballot ids are random, not a sequence whose order matches the order people answered.
    assert isinstance(db.metadata.tables["survey_response"].c.id.type, sa.String)
    # The roll records only whether someone answered, never when.
    invitation = db.metadata.tables["survey_invitation"]
    assert not any(isinstance(c.type, (sa.DateTime, sa.Date)) or (
        isinstance(c.type, sa.types.TypeDecorator) and isinstance(c.type.impl, sa.DateTime))
        for c in invitation.columns)
    for mapper in db.Model.registry.mappers:
        for rel in mapper.relationships:
            if rel.mapper.local_table.name in BALLOT_TABLES:
                assert mapper.local_table.name in BALLOT_TABLES, rel


def test_the_openapi_document_has_no_route_to_a_ballot(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    text = str(doc).lower()
    for path, ops in doc["paths"].items():
        assert not re.search(r"response_id|ballot|answer_id|responses/\{", path), path
        for op in ops.values():
            for p in op.get("parameters", []):
                assert not re.search(r"response|ballot|answer", p["name"]), (path, p["name"])
    assert "response_id" not in text and "answer_id" not in text


def _crawl(app: Flask, client: FlaskClient, wave_id: int, survey_id: int) -> dict[str, str]:
    """Every GET route of the app, with each integer argument set to the wave's or the
    survey's id (and 1), and each export format."""
    bodies = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        if any(a not in ("wave_id", "survey_id", "idea_id", "programme_id", "ident", "plan_id",
                         "person_id", "id", "token") for a in rule.arguments):
            continue
        values: dict[str, Any] = {a: 1 for a in rule.arguments}
        values.update({k: v for k, v in (("wave_id", wave_id), ("survey_id", survey_id))
                       if k in rule.arguments})
        if "token" in rule.arguments:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        for query in ("", "?format=csv", "?format=xlsx", "?format=pdf"):
            r = client.get(url + query)
            bodies[url + query] = r.get_data().decode("latin-1")
    return bodies


@pytest.mark.slow
def test_no_page_route_or_export_shows_a_ballot_id_or_who_gave_an_answer(
        app: Flask, client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]], login_as: Callable[..., dict[str, str]]) -> None:
    app.config["SURVEY_MIN_GROUP"] = 5
    wave, tokens = wave_with_links()
    wave_id, survey_id = wave.id, wave.survey_id
    q1, q4 = _q(wave, 1), _q(wave, 4)
    audit_before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    respondents = [(p.email, p.name) for p in people["nurse"][:12]]
    nurse_ids = [p.id for p in people["nurse"][:12]]
    for i, p in enumerate(nurse_ids):
        _answer(client, tokens[p], **{q1: str(1 + i % 5), q4: f"answer-marker-{i}"})
    # Answering wrote nothing to the audit trail (a timestamped row would tie a person to
    # the moment a ballot arrived).
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == audit_before
    surveys.close_wave(surveys.get_wave(wave_id), CLI_ACTOR)
    db.session.commit()
    ballot_ids = set(db.session.scalars(sa.select(Response.id)))
    ballot_ids |= set(db.session.scalars(sa.select(Answer.id)))
    assert len(ballot_ids) > 12
    for role in ("admin", "programme_lead"):
        headers = login_as(role)
        token = headers["Authorization"].split()[1]
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        user = db.session.scalars(sa.select(User).where(User.role == UserRole(role))).first()
        assert user is not None
        with client.session_transaction() as session:  # signed in for the pages too
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        g.pop("_login_user", None)  # the test's app context outlives requests: forget anyone
        bodies = _crawl(app, client, wave_id, survey_id)
        # The crawl reached the results page, the API's results and both exports.
        for url in (f"/progress/waves/{wave_id}", f"/api/v1/waves/{wave_id}/results",
                    f"/api/v1/waves/{wave_id}/results/export?format=csv"):
            assert "answer-marker-3" in bodies[url], url
        assert len(bodies) > 100
        for url, body in bodies.items():
            for ident in ballot_ids:
                assert ident not in body, f"{url} shows ballot {ident}"
            if "answer-marker" in body:  # an answer shown: no respondent beside it
                for email, name in respondents:
                    assert email not in body, f"{url} shows {email} with answers"
                    assert name not in body, f"{url} shows {name} with answers"
