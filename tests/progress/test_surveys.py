"""A survey end to end: invitations with personal links, answering like a ballot box,
results hidden while the wave is open, suppression and free text once it closes, recurring
pulses opened by the night, reminders, and the CLI."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import now_utc
from sel_time.core.errors import NotFound
from sel_time.core.extensions import db
from sel_time.mail import MailMessage
from sel_time.models import Attendance, Outcome, ProtectedSession, RosterStatus
from sel_time.progress import surveys
from sel_time.progress.models import Invitation, Response, Survey, WaveStatus


def csrf_of(page: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


def _answer(client: FlaskClient, token: str, **answers: Any) -> Any:
    page = client.get(f"/survey/{token}")
    assert page.status_code == 200
    return client.post(f"/survey/{token}", data={"csrf_token": csrf_of(page), **answers})


def _q(wave: Any, position: int) -> str:
    return f"q{wave.survey.questions[position - 1].id}"


def test_a_leader_answers_once_and_only_coarse_facts_reach_the_ballot(
        app: Flask, client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]]) -> None:
    wave, tokens = wave_with_links()
    nurse = people["nurse"][0]
    r = _answer(client, tokens[nurse.id], **{_q(wave, 1): "4", _q(wave, 3): [
        "Clinical or care pressure", "Short staffing"]})
    assert r.status_code == 200 and b"Thank you" in r.data
    ballot = db.session.scalars(sa.select(Response)).one()
    assert (ballot.profession_group, ballot.organisation_kind, ballot.borough) == (
        "Nursing and midwifery", "Hospital trust", "Lambeth")
    assert ballot.received_on == surveys.today_london()
    assert sorted(a.score or 0 for a in ballot.answers) == [0, 4]
    inv = db.session.scalars(sa.select(Invitation).where(Invitation.person_id == nurse.id)).one()
    assert inv.responded is True
    again = client.get(f"/survey/{tokens[nurse.id]}")
    assert b"already answered" in again.data and b"survey-form" not in again.data
    with client.session_transaction() as session:  # a replayed form is refused all the same
        session["csrf_token"] = "x"
    app.config["WTF_CSRF_ENABLED"] = False
    assert b"already answered" in client.post(f"/survey/{tokens[nurse.id]}",
                                              data={_q(wave, 1): "2"}).data
    assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1


def test_bad_answers_are_named_in_words_and_unknown_links_get_404(
        client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]]) -> None:
    wave, tokens = wave_with_links()
    r = _answer(client, tokens[people["gp"][0].id], **{_q(wave, 1): "9", _q(wave, 3): "Golf"})
    assert r.status_code == 400
    assert b"There is a problem" in r.data
    assert b"Choose one answer from 1 to 5" in r.data
    assert b"Choose from the answers offered" in r.data
    assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0
    assert client.get("/survey/not-a-real-link").status_code == 404


def test_results_are_hidden_while_open_then_suppressed_with_free_text_redacted(
        app: Flask, client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]], login_as: Callable[..., dict[str, str]]) -> None:
    wave, tokens = wave_with_links()
    headers = login_as("programme_lead")
    for i, p in enumerate(people["nurse"][:12]):
        _answer(client, tokens[p.id], **{
            _q(wave, 1): str(1 + i % 5), _q(wave, 2): "4",
            _q(wave, 4): f"Too many meetings; ask Bethan Price about idea {i}"})
    for p in people["social_worker"][:3] + people["gp"][:1]:
        _answer(client, tokens[p.id], **{_q(wave, 1): "2"})
    hidden = client.get(f"/api/v1/waves/{wave.id}/results", headers=headers)
    assert hidden.status_code == 409
    assert hidden.content_type == "application/problem+json"
    assert "hidden until it closes" in hidden.json["detail"]
    client.post(f"/api/v1/waves/{wave.id}/close", headers=headers)
    r = client.get(f"/api/v1/waves/{wave.id}/results", headers=headers).json
    assert r["responses"] == 16 and r["invited"] == 52
    q1 = r["questions"][0]
    assert q1["overall"]["n"] == 16
    by_prof = {g["group"]: g for g in q1["by"]["profession_group"]}
    # GPs (6 invited) are counted with social workers (22): fewer than 2 × 11 alone. That
    # group has 4 answers, under 11, so nurses (12) are withheld too, or 16 - 12 would give
    # the other 4 away.
    assert set(by_prof) == {"Nursing and midwifery", "Combined: Medical, Social care"}
    assert all(g["withheld"] for g in by_prof.values())
    assert all("n" not in g and "mean" not in g for g in by_prof.values())
    comments = r["questions"][3]["comments"]
    assert len(comments) == 12
    assert all("Bethan" not in c and "Price" not in c and "[name]" in c for c in comments)
    text_by = client.get(f"/api/v1/waves/{wave.id}/results/export?format=csv",
                         headers=headers).data.decode("utf-8-sig")
    assert "fewer than 11 responses" in text_by and "Bethan" not in text_by


def test_groups_of_k_are_shown_and_small_groups_only_together(
        app: Flask, client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]], login_as: Callable[..., dict[str, str]]) -> None:
    app.config["SURVEY_MIN_GROUP"] = 5
    wave, tokens = wave_with_links()
    headers = login_as("programme_lead")
    at = now_utc().replace(microsecond=0) - timedelta(days=2)
    db.session.add(ProtectedSession(
        uid="pt-1", person_id=people["nurse"][0].id, slot="x", start_at=at,
        end_at=at + timedelta(hours=4), status=RosterStatus.CONFIRMED, published_at=at,
        last_modified=at, attendances=[Attendance(person_id=people["nurse"][0].id,
                                                  outcome=Outcome.PARTIAL, fraction_taken=0.5)]))
    db.session.commit()
    everyone = people["nurse"][:12] + people["social_worker"][:4] + people["gp"][:3]
    for i, p in enumerate(everyone):
        _answer(client, tokens[p.id], **{_q(wave, 1): str(1 + i % 5)})
    client.post(f"/api/v1/waves/{wave.id}/close", headers=headers)
    r = client.get(f"/api/v1/waves/{wave.id}/results", headers=headers).json
    by_prof = {g["group"]: g for g in r["questions"][0]["by"]["profession_group"]}
    # The 3 GPs are never shown on their own: they count with the social workers (7 > 5).
    assert by_prof["Nursing and midwifery"]["n"] == 12
    assert by_prof["Combined: Medical, Social care"]["n"] == 7
    assert "Medical" not in by_prof
    ci = by_prof["Nursing and midwifery"]
    assert ci["mean"] == 2.75 and ci["low"] < 2.75 < ci["high"]
    # Beside each group, its protected time over the quarter to the wave's close.
    rates = {g["group"]: g for g in r["breakdowns"]["profession_group"]["groups"]}
    assert rates["Nursing and midwifery"]["protected_time"] == {
        "hours_planned": 4.0, "hours_delivered": 2.0, "delivery_rate": 0.5}
    assert rates["Nursing and midwifery"]["headline"] == 2.75
    page = client.get(f"/progress/waves/{wave.id}")  # not signed in: sent to sign in
    assert page.status_code == 302


def test_the_night_opens_a_due_pulse_and_moves_its_next_wave_on(
        app: Flask, people: dict[str, list[Any]]) -> None:
    s = surveys.create_survey("Quarterly pulse", "quarterly", ["time-protected"], CLI_ACTOR,
                              first_opens_on=date(2027, 1, 4))
    db.session.commit()
    opened, messages = surveys.open_due_waves(date(2027, 1, 3), CLI_ACTOR)
    assert opened == [] and messages == []
    opened, messages = surveys.open_due_waves(date(2027, 1, 4), CLI_ACTOR)
    assert [w.number for w in opened] == [1] and len(messages) == 52
    queued = db.session.scalars(sa.select(MailMessage)).all()  # in the outbox, same transaction
    assert len(queued) == 52 and all(m.kind == "survey_invitation" for m in queued)
    assert "/survey/" in messages[0].body and messages[0].to.endswith("@nhs.net")
    assert s.next_wave_on == date(2027, 4, 4)
    assert surveys.open_due_waves(date(2027, 1, 5), CLI_ACTOR) == ([], [])
    surveys.open_due_waves(date(2027, 1, 18), CLI_ACTOR)  # 14 days open: closed on the 18th
    assert opened[0].status == WaveStatus.CLOSED
    opened, _ = surveys.open_due_waves(date(2027, 4, 4), CLI_ACTOR)
    assert [w.number for w in opened] == [2]


def test_reminders_go_to_those_who_have_not_answered_with_the_same_link(
        client: FlaskClient, wave_with_links: Callable[..., Any],
        people: dict[str, list[Any]]) -> None:
    wave, tokens = wave_with_links()
    _answer(client, tokens[people["gp"][0].id], **{_q(wave, 1): "3"})
    messages = surveys.reminders(wave)
    assert len(messages) == 51
    assert people["gp"][0].email not in {m.to for m in messages}
    nurse = people["nurse"][0]
    mine = next(m for m in messages if m.to == nurse.email)
    assert tokens[nurse.id] in mine.body and mine.subject.startswith("Reminder")


def test_cli_builds_opens_and_closes_a_survey(app: Flask, people: dict[str, list[Any]]) -> None:
    runner = app.test_cli_runner()
    out = runner.invoke(args=["sel-time", "survey", "create", "--title", "Baseline",
                              "--question", "time-protected", "--question", "team-time"])
    assert out.exit_code == 0, out.output
    sid = db.session.scalar(sa.select(Survey.id))
    out = runner.invoke(args=["sel-time", "survey", "open", str(sid)])
    assert "52 invited" in out.output
    bad = runner.invoke(args=["sel-time", "survey", "create", "--title", "X",
                              "--question", "nope"])
    assert bad.exit_code == 2 and "Not in the question bank: nope" in bad.output


def test_retention_empties_old_invitations_but_keeps_the_results(
        app: Flask, wave_with_links: Any) -> None:
    """Survey invitations are kept for SEL_TIME_RETAIN_SURVEY_INVITATIONS_DAYS after their wave
    closes: then the person and the link go, and the response rate and groups do not change."""
    from sel_time.privacy.retention import apply_retention
    from sel_time.progress import results

    wave, tokens = wave_with_links()
    first = f"q{wave.survey.questions[0].id}"  # how protected is your time (1-5)
    for token in list(tokens.values())[:30]:
        surveys.submit(token, {first: "4"})
    surveys.close_wave(wave, CLI_ACTOR)
    db.session.commit()
    before = results.wave_results(wave, 11)
    invited = db.session.query(Invitation).filter_by(wave_id=wave.id).count()

    closes = wave.closes_on
    soon = apply_retention(now_utc().replace(year=closes.year, month=closes.month,
                                             day=closes.day) + timedelta(days=364))
    assert [r.rows for r in soon if r.rule.table == "survey_invitation"] == [0]
    later = now_utc().replace(year=closes.year, month=closes.month,
                              day=closes.day) + timedelta(days=366)
    dry = apply_retention(later, dry_run=True)
    assert [r.rows for r in dry if r.rule.table == "survey_invitation"] == [invited]
    apply_retention(later)
    db.session.commit()

    rows = db.session.query(Invitation).filter_by(wave_id=wave.id).all()
    assert len(rows) == invited and all(r.person_id is None and not r.nonce for r in rows)
    assert results.wave_results(wave, 11) == before
    with pytest.raises(NotFound):
        surveys.invitation_for(next(iter(tokens.values())))  # the old links lead nowhere
