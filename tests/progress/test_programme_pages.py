"""The programme lead's pages for training programmes: creating one and changing it (name,
kind, cohort, modules, how many modules complete it), every wrong field named in words in the
error summary and beside the field, exactly one programme made and audited, and only the
roles that lead programmes let in."""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import AuditEvent, User, UserRole
from sel_time.progress.models import Programme

from .test_surveys import csrf_of


def _sign_in(client: FlaskClient, role: str) -> None:
    g.pop("_login_user", None)  # Flask-Login's user of an earlier request in this app context
    n = db.session.scalar(sa.select(sa.func.count(User.id))) or 0
    user = User(email=f"{role}{n}@example.nhs.uk", name=f"Pat {role}", role=UserRole(role))
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def _post(client: FlaskClient, path: str, **form: str) -> Any:
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_of(page), **form})


def _summary(page: str) -> dict[str, str]:
    """The error summary: each link's target field and its words."""
    return {field: html.unescape(words) for field, words in
            re.findall(r'<li><a href="#([\w-]+)">([^<]+)</a></li>', page)}


@pytest.fixture()
def cohorts(make: Callable[..., Any]) -> dict[str, Any]:
    members = [make("people", name=n) for n in ("Ada Lead", "Ben Frontline")]
    return {"fellows": make("teams", kind="training_cohort", name="Fellows",
                            member_ids=[p.id for p in members]),
            "mentors": make("teams", kind="training_cohort", name="Mentors"),
            "board": make("teams", kind="leadership_team", name="Place board")}


def _programmes() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme)))


def test_an_empty_form_names_every_field_in_words(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any]) -> None:
    _sign_in(client, "programme_lead")
    r = _post(client, "/progress/programmes/new", name="", kind="", team_id="", modules="",
              completion_modules="")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "There is a problem" in page
    said = _summary(page)
    assert said["name"] == "Enter a name of 1 to 200 characters"
    assert said["kind"].startswith("Choose the kind of programme")
    assert said["team_id"] == "Choose a cohort: a team of the kind training cohort"
    assert said["modules"] == "Name at least one module, one a line"
    for field in said:  # each beside its field too, with the field marked
        assert f'id="{field}-error"' in page and f'id="{field}"' in page
    assert 'class="nhsuk-label" for="modules"' in page and "nhsuk-textarea--error" in page
    assert _programmes() == []


def test_wrong_values_are_named_and_kept_on_the_form(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any]) -> None:
    _sign_in(client, "programme_lead")
    r = _post(client, "/progress/programmes/new", name="SEL Fellows", kind="weekend",
              team_id=str(cohorts["board"].id), modules="Leading across a system\nCoaching",
              completion_modules="three")
    page = r.get_data(as_text=True)
    said = _summary(page)
    assert r.status_code == 400 and set(said) == {"kind", "team_id", "completion_modules"}
    assert said["completion_modules"] == ("Modules to attend to complete must be from 1 to "
                                          "the number of modules")
    assert 'value="SEL Fellows"' in page and "Leading across a system\nCoaching" in page
    r = _post(client, "/progress/programmes/new", name="SEL Fellows", kind="system_course",
              team_id=str(cohorts["fellows"].id), modules="Coaching", completion_modules="2")
    assert _summary(r.get_data(as_text=True)) == {
        "completion_modules": "Modules to attend to complete must be from 1 to the number "
                              "of modules"}
    assert _programmes() == []


def test_a_good_form_creates_one_programme_audited_then_it_can_be_changed(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any]) -> None:
    _sign_in(client, "programme_lead")
    listing = client.get("/progress/programmes").get_data(as_text=True)
    assert 'href="/progress/programmes/new"' in listing
    r = _post(client, "/progress/programmes/new", name="SEL Fellows",
              kind="leadership_academy", team_id=str(cohorts["fellows"].id),
              modules="Leading across a system\n\nCoaching\nFinance", completion_modules="2")
    assert r.status_code == 302
    (p,) = _programmes()
    assert (p.name, p.kind.value, p.cohort.name, p.completion_modules) == (
        "SEL Fellows", "leadership_academy", "Fellows", 2)
    assert [m.title for m in p.modules] == ["Leading across a system", "Coaching", "Finance"]
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "programme"))
    assert [(a.action, a.entity_id, a.actor) for a in audit] == [
        ("create", str(p.id), "programme_lead0@example.nhs.uk")]
    shown = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Programme &#39;SEL Fellows&#39; created" in shown and "2 enrolled" in shown
    assert f'href="/progress/programmes/{p.id}/edit"' in shown

    edit = f"/progress/programmes/{p.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'value="SEL Fellows"' in form and "Leading across a system\nCoaching\nFinance" in form
    # A second programme may not take a cohort that already has one.
    taken = _post(client, "/progress/programmes/new", name="Another", kind="system_course",
                  team_id=str(cohorts["fellows"].id), modules="A")
    assert _summary(taken.get_data(as_text=True)) == {
        "team_id": "The cohort Fellows already follows the programme 'SEL Fellows': "
                   "choose another"}
    bad = _post(client, edit, name="", kind="system_course", team_id=str(cohorts["mentors"].id),
                modules="Coaching", completion_modules="")
    assert bad.status_code == 400 and set(_summary(bad.get_data(as_text=True))) == {"name"}
    db.session.expire_all()
    assert db.session.get(Programme, p.id).name == "SEL Fellows"  # nothing half-changed
    ok = _post(client, edit, name="SEL Fellows 2027", kind="system_course",
               team_id=str(cohorts["mentors"].id), modules="Coaching\nLeading change",
               completion_modules="")
    assert ok.status_code == 302
    db.session.expire_all()
    (p,) = _programmes()
    assert (p.name, p.kind.value, p.cohort.name, p.completion_modules) == (
        "SEL Fellows 2027", "system_course", "Mentors", None)
    assert [(m.position, m.title) for m in p.modules] == [(1, "Coaching"),
                                                           (2, "Leading change")]
    change = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity == "programme", AuditEvent.action == "update")).one()
    assert change.old is not None and change.new is not None
    assert (change.old["name"], change.new["name"]) == ("SEL Fellows", "SEL Fellows 2027")
    assert change.new["modules"] == ["Coaching", "Leading change"]


@pytest.mark.parametrize("role", ["leader", "finance"])
def test_only_programme_leads_rota_managers_and_admins_may(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any], make: Callable[..., Any],
        role: str) -> None:
    _sign_in(client, role)
    assert client.get("/progress/programmes/new").status_code == 403
    app.config["WTF_CSRF_ENABLED"] = False
    r = client.post("/progress/programmes/new", data={
        "name": "X", "kind": "system_course", "team_id": str(cohorts["fellows"].id),
        "modules": "A"})
    assert r.status_code == 403 and _programmes() == []


@pytest.mark.parametrize("role", ["rota_manager", "admin"])
def test_rota_managers_and_admins_act_as_programme_leads(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any], role: str) -> None:
    _sign_in(client, role)
    r = _post(client, "/progress/programmes/new", name="SEL Fellows", kind="system_course",
              team_id=str(cohorts["fellows"].id), modules="Coaching")
    assert r.status_code == 302 and len(_programmes()) == 1
    form = client.get(f"/progress/programmes/{_programmes()[0].id}/edit")
    assert "Change the cohort’s members and sessions" in form.get_data(as_text=True)


def test_the_api_changes_a_programme_as_the_page_does(
        app: Flask, client: FlaskClient, cohorts: dict[str, Any],
        login_as: Callable[..., dict[str, str]]) -> None:
    lead = login_as("programme_lead")
    made = client.post("/api/v1/programmes", headers=lead, json={
        "name": "SEL Fellows", "kind": "system_course", "team_id": cohorts["fellows"].id,
        "modules": ["Coaching"]})
    assert made.status_code == 201
    path = f"/api/v1/programmes/{made.json['id']}"
    bad = client.put(path, headers=lead, json={
        "name": "SEL Fellows", "kind": "system_course", "team_id": cohorts["board"].id,
        "modules": ["Coaching"], "completion_modules": "all"})
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json["errors"]) == ["completion_modules", "team_id"]
    ok = client.put(path, headers=lead, json={
        "name": "SEL Fellows", "kind": "system_course", "team_id": cohorts["mentors"].id,
        "modules": ["Coaching", "Finance"], "completion_modules": 1})
    assert ok.status_code == 200 and ok.json["cohort"] == "Mentors"
    assert [m["title"] for m in ok.json["modules"]] == ["Coaching", "Finance"]
    leader = login_as("leader")
    assert client.put(path, headers=leader, json={}).status_code == 403
