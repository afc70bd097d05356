"""Scheduled survey reminders: the night reminds everyone invited who has not answered, on the
wave's reminder days (by default 3 days after it opens and 2 days before its last day), each
reminder at most once per invitation, never after they answered or after the wave closed,
never to an erased person, and nothing more when the night runs twice. Time moves with
time-machine; the night's survey part reads the one clock."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import today_london
from sel_time.core.extensions import db
from sel_time.core.transaction import boundary
from sel_time.mail import MailMessage
from sel_time.nightly import tasks as nightly_tasks
from sel_time.progress import mailing, surveys
from sel_time.progress.models import Invitation, Wave

OPENS = date(2027, 1, 4)  # a Monday; 14 days open: the last day is Sunday 17 January
INVITED = 52  # the ``people`` fixture


def _at(day: date) -> Any:
    """The clock at 02:00 (UTC, winter) on ``day``: when the night runs."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC),
                               tick=False)


@pytest.fixture()
def opened(app: Flask, people: dict[str, list[Any]]) -> Iterator[Any]:
    """Open a baseline on OPENS (with the reminder settings given); return (wave, tokens)."""

    def _open(**reminders: Any) -> tuple[Wave, dict[int | None, str]]:
        with _at(OPENS), boundary():
            s = surveys.create_survey("Leadership time baseline", "once", ["time-protected"],
                                      CLI_ACTOR, **reminders)
            wave, messages = surveys.open_wave(s, today_london(), CLI_ACTOR)
            mailing.send(messages, "survey_invitation")
        tokens = {inv.person_id: surveys.invitation_link(inv).rsplit("/", 1)[1]
                  for inv in db.session.scalars(sa.select(Invitation))}
        return wave, tokens

    yield _open


def _night(day: date) -> str:
    """The night's survey part on ``day``, in its own transaction as the housekeeping runs it."""
    with _at(day), boundary():
        return surveys.nightly(today_london())


def _reminders() -> Counter[str]:
    """How many reminders each address has had (from the outbox)."""
    return Counter(db.session.scalars(
        sa.select(MailMessage.recipient).where(MailMessage.kind == "survey_reminder")))


def _answer(token: str, day: date) -> None:
    with _at(day), boundary():
        surveys.submit(token, {})


def test_the_defaults_remind_three_days_after_opening_and_two_before_the_last_day(
        opened: Any) -> None:
    wave, _ = opened()
    assert surveys.reminder_days(wave) == {"after_opening": date(2027, 1, 7),
                                           "before_closing": date(2027, 1, 15)}
    for day in (date(2027, 1, 5), date(2027, 1, 6)):
        assert _night(day).endswith("0 reminders queued")
    assert _reminders() == Counter()
    assert _night(date(2027, 1, 7)).endswith(f"{INVITED} reminders queued")
    assert sorted(_reminders().values()) == [1] * INVITED
    for day in (date(2027, 1, 8), date(2027, 1, 14)):
        _night(day)
    assert sum(_reminders().values()) == INVITED  # nothing between the two reminder days
    _night(date(2027, 1, 15))
    assert sorted(_reminders().values()) == [2] * INVITED
    mail = db.session.scalars(sa.select(MailMessage).where(
        MailMessage.kind == "survey_reminder")).first()
    assert mail is not None and mail.subject.startswith("Reminder:")
    assert "/survey/" in mail.text_body


def test_the_night_run_twice_sends_each_reminder_once(opened: Any) -> None:
    opened()
    _night(date(2027, 1, 7))
    assert _night(date(2027, 1, 7)).endswith("0 reminders queued")
    assert sum(_reminders().values()) == INVITED
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id)).where(
        Invitation.reminded_after_opening.is_(True))) == INVITED


def test_who_has_answered_is_never_reminded(
        opened: Any, people: dict[str, list[Any]]) -> None:
    _, tokens = opened()
    early, late = people["nurse"][0], people["gp"][0]
    _answer(tokens[early.id], date(2027, 1, 5))
    _night(date(2027, 1, 7))
    _answer(tokens[late.id], date(2027, 1, 10))
    _night(date(2027, 1, 15))
    had = _reminders()
    assert early.email not in had
    assert had[late.email] == 1  # reminded once, before answering; not after
    assert sum(had.values()) == (INVITED - 1) + (INVITED - 2)


def test_a_missed_night_is_caught_up_and_two_due_reminders_make_one_e_mail(
        opened: Any) -> None:
    opened()
    _night(date(2027, 1, 9))  # the night of the 7th and the 8th did not run
    assert sorted(_reminders().values()) == [1] * INVITED
    _night(date(2027, 1, 16))  # nor did the night of the 15th
    assert sorted(_reminders().values()) == [2] * INVITED
    opened_again = db.session.scalars(sa.select(MailMessage.dedupe_key).where(
        MailMessage.kind == "survey_reminder")).all()
    assert len(set(opened_again)) == 2 * INVITED


def test_both_reminders_due_at_once_send_one_e_mail_and_mark_both(opened: Any) -> None:
    opened()
    _night(date(2027, 1, 16))  # no night ran since the wave opened
    assert sorted(_reminders().values()) == [1] * INVITED
    _night(date(2027, 1, 17))
    assert sum(_reminders().values()) == INVITED


def test_nothing_after_the_wave_has_closed(opened: Any) -> None:
    wave, _ = opened()
    with _at(date(2027, 1, 6)), boundary():
        surveys.close_wave(wave, CLI_ACTOR)  # closed early, by hand
    for day in (date(2027, 1, 7), date(2027, 1, 15)):
        _night(day)
    assert _reminders() == Counter()


def test_nothing_once_the_last_day_has_passed(opened: Any) -> None:
    opened(remind_after_days=None, remind_before_days=0)
    _night(date(2027, 1, 18))  # the night closes the wave; its last-day reminder never went
    assert _reminders() == Counter()


def test_an_erased_person_is_never_reminded(
        opened: Any, people: dict[str, list[Any]]) -> None:
    from sel_time.privacy import erase_person

    wave, _ = opened()
    gone = people["social_worker"][3]
    address = gone.email
    with _at(date(2027, 1, 5)), boundary():
        erase_person(gone.id, CLI_ACTOR)
    _night(date(2027, 1, 7))
    had = _reminders()
    assert sum(had.values()) == INVITED - 1
    assert address not in had and not any(a.endswith("@erased.invalid") for a in had)
    with _at(date(2027, 1, 8)), boundary():  # nor by hand
        by_hand = surveys.reminders(surveys.get_wave(wave.id))
    assert len(by_hand) == INVITED - 1
    assert not any(m.to.endswith("@erased.invalid") for m in by_hand)


def test_each_survey_sets_its_own_reminder_days(opened: Any) -> None:
    wave, _ = opened(remind_after_days=None, remind_before_days=0)
    assert surveys.reminder_days(wave) == {"before_closing": date(2027, 1, 17)}
    for day in (date(2027, 1, 7), date(2027, 1, 15), date(2027, 1, 16)):
        _night(day)
    assert _reminders() == Counter()
    _night(date(2027, 1, 17))  # the last day
    assert sorted(_reminders().values()) == [1] * INVITED


def test_a_reminder_day_outside_the_wave_is_not_used(opened: Any) -> None:
    wave, _ = opened(remind_after_days=20, remind_before_days=13)  # after the last day; the
    assert surveys.reminder_days(wave) == {}  # opening day itself
    for day in range(5, 18):
        _night(date(2027, 1, day))
    assert _reminders() == Counter()


def test_reminder_days_in_words_naming_the_field(
        app: Flask, people: dict[str, list[Any]]) -> None:
    from sel_time.core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        surveys.create_survey("Pulse", "once", ["time-protected"], CLI_ACTOR,
                              remind_after_days=0, remind_before_days=91)
    said = {e.field: e.message for e in caught.value.errors}
    assert said == {
        "remind_after_days": "Enter a whole number of days from 1 to 90, or leave it empty "
                             "for no such reminder",
        "remind_before_days": "Enter a whole number of days from 0 to 90, or leave it empty "
                              "for no such reminder"}


def test_the_api_takes_reminder_days_and_null_for_none(
        app: Flask, client: FlaskClient, people: dict[str, list[Any]],
        login_as: Callable[..., dict[str, str]]) -> None:
    lead = login_as("programme_lead")
    r = client.post("/api/v1/surveys", headers=lead, json={"title": "Pulse", "cadence": "once",
                                             "questions": ["time-protected"],
                                             "remind_after_days": None,
                                             "remind_before_days": 5})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["remind_after_days"], body["remind_before_days"]) == (None, 5)
    bad = client.post("/api/v1/surveys", headers=lead, json={"title": "Pulse", "cadence": "once",
                                               "questions": ["time-protected"],
                                               "remind_after_days": "soon"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["remind_after_days"]


def test_the_nightly_housekeeping_sends_the_reminders(app: Flask, opened: Any) -> None:
    opened()
    with _at(date(2027, 1, 7)):
        nightly_tasks.housekeeping_task()
    assert sorted(_reminders().values()) == [1] * INVITED


def test_the_survey_page_sets_the_reminder_days_and_names_a_wrong_one(
        app: Flask, client: FlaskClient, people: dict[str, list[Any]]) -> None:
    from sel_time.progress.models import Survey

    from .test_programme_pages import _sign_in, _summary
    from .test_surveys import csrf_of

    _sign_in(client, "programme_lead")

    def build(**form: str) -> Any:
        token = csrf_of(client.get("/progress"))
        return client.post("/progress/surveys", data={
            "csrf_token": token, "title": "Pulse", "cadence": "once",
            "questions": "time-protected", "days_open": "14", **form})

    bad = build(remind_after_days="soon", remind_before_days="2")
    assert bad.status_code == 400
    assert _summary(bad.get_data(as_text=True)) == {
        "remind_after_days": "Enter a whole number of days from 1 to 90, or leave it empty "
                             "for no such reminder"}
    assert build(remind_after_days="", remind_before_days="1").status_code == 302
    survey = db.session.scalars(sa.select(Survey)).one()
    assert (survey.remind_after_days, survey.remind_before_days) == (None, 1)
    with _at(OPENS), boundary():
        surveys.open_wave(surveys.get_survey(survey.id), today_london(), CLI_ACTOR)
    page = client.get("/progress").get_data(as_text=True)
    assert "reminders sent at night 1 day before its last day" in page
    assert "The night reminds who has not answered on 2027-01-16." in page
