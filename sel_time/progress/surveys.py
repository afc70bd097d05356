"""Surveys: building one from the bank, opening waves (once, or as a recurring pulse),
personal invitation links, reminders, and answering like a ballot box. Flush-only services.

Answering marks the invitation ``responded`` and adds a :class:`Response` that holds no
person, user, invitation or time finer than the day; nothing is written to the audit trail
about it (an audit row would be a timestamped link between a person and a ballot)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..core.audit import SCHEDULER_ACTOR, Actor, record
from ..core.clock import now_utc, today_london
from ..core.errors import Conflict, FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..feeds.service import public_base
from ..models import Person
from .bank import coarse_attributes, seed_bank
from .mailing import Message
from .mailing import send as send_messages
from .models import (
    Answer,
    BankQuestion,
    Cadence,
    Invitation,
    QuestionKind,
    Response,
    Survey,
    SurveyQuestion,
    Wave,
    WaveStatus,
)

CADENCE_MONTHS = {
    Cadence.MONTHLY: 1,
    Cadence.QUARTERLY: 3,
    Cadence.HALF_YEARLY: 6,
    Cadence.YEARLY: 12,
}
MAX_TEXT = 2000
# A wave's scheduled reminders, by default: three days after it opens, and two days before
# its last day (each survey may change either, or have none).
REMIND_AFTER_DAYS = 3
REMIND_BEFORE_DAYS = 2
AFTER_OPENING = "after_opening"
BEFORE_CLOSING = "before_closing"
REMINDER_FLAGS = {AFTER_OPENING: "reminded_after_opening",
                  BEFORE_CLOSING: "reminded_before_closing"}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def create_survey(
    title: str,
    cadence: str,
    question_codes: Sequence[str],
    actor: Actor,
    *,
    days_open: int = 14,
    first_opens_on: date | None = None,
    remind_after_days: int | None = REMIND_AFTER_DAYS,
    remind_before_days: int | None = REMIND_BEFORE_DAYS,
) -> Survey:
    """A survey of bank questions (in the order given). A recurring pulse opens its first
    wave on ``first_opens_on`` (by :func:`open_due_waves`), then every period. Each wave's
    scheduled reminders go ``remind_after_days`` after it opens and ``remind_before_days``
    before its last day (None: no such reminder); see :func:`send_due_reminders`."""
    errors = []
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        errors.append(FieldError("title", "Enter a title of 1 to 200 characters"))
    try:
        kind = Cadence(cadence)
    except ValueError:
        errors.append(FieldError("cadence", "Choose how often the survey runs: once, monthly, "
                                 "quarterly, every six months or yearly"))
        kind = Cadence.ONCE
    if isinstance(days_open, bool) or not isinstance(days_open, int) or not 1 <= days_open <= 90:
        errors.append(FieldError("days_open", "Enter a whole number of days from 1 to 90"))
    for name, value, low in (("remind_after_days", remind_after_days, 1),
                             ("remind_before_days", remind_before_days, 0)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value <= 90):
            errors.append(FieldError(name, f"Enter a whole number of days from {low} to 90, "
                                     "or leave it empty for no such reminder"))
    seed_bank()
    bank = {q.code: q for q in db.session.scalars(sa.select(BankQuestion))}
    codes = [c for c in dict.fromkeys(question_codes) if c]
    unknown = [c for c in codes if c not in bank]
    if not codes:
        errors.append(FieldError("questions", "Choose at least one question from the bank"))
    elif unknown:
        errors.append(FieldError("questions", "Not in the question bank: " + ", ".join(unknown)))
    if errors:
        raise ValidationError("The survey cannot be created", errors)
    survey = Survey(title=title, cadence=kind, days_open=days_open, created_by=actor.label,
                    created_at=now_utc(), remind_after_days=remind_after_days,
                    remind_before_days=remind_before_days,
                    next_wave_on=first_opens_on if kind != Cadence.ONCE else None)
    for position, code in enumerate(codes, start=1):
        q = bank[code]
        survey.questions.append(SurveyQuestion(position=position, theme=q.theme, text=q.text,
                                               kind=q.kind, options=q.options))
    db.session.add(survey)
    db.session.flush()
    record(actor, "create", "survey", survey.id, None,
           {"title": title, "cadence": kind.value, "questions": codes,
            "remind_after_days": remind_after_days, "remind_before_days": remind_before_days})
    return survey


def get_survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"No survey {survey_id}")
    return survey


def get_wave(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(f"No survey wave {wave_id}")
    return wave


# -- personal links --------------------------------------------------------------------------

def _token(nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, b"survey-invitation:" + nonce.encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(invitation: Invitation) -> str:
    base = public_base()
    return f"{base}/survey/{_token(invitation.nonce)}"


def _message(invitation: Invitation, reminder: bool, key: str | None = None) -> Message:
    wave = invitation.wave
    survey = wave.survey
    opening = "A reminder: " if reminder else ""
    body = (
        f"{opening}you are invited to answer '{survey.title}' (wave {wave.number}).\n\n"
        f"Your personal link: {invitation_link(invitation)}\n\n"
        "Your answers are anonymous: they are stored apart from the record that you have "
        "answered, with only your profession group, organisation kind and borough, and no "
        "result is shown for a group of fewer than "
        f"{results_k()} people.\n"
        f"The survey closes at the end of {wave.closes_on:%A %-d %B %Y}.\n"
    )
    subject = ("Reminder: " if reminder else "") + survey.title
    key = key or (f"survey-reminder:{invitation.id}:{invitation.reminders_sent}" if reminder
                  else f"survey-invitation:{invitation.id}")
    assert invitation.person is not None  # an open wave's invitations name their person
    return Message(invitation.person.email, subject, body, key)


def results_k() -> int:
    from .suppression import DEFAULT_K, checked_k

    return checked_k(int(current_app.config.get("SURVEY_MIN_GROUP", DEFAULT_K)))


# -- waves -----------------------------------------------------------------------------------

def open_wave(survey: Survey, opens_on: date, actor: Actor) -> tuple[Wave, list[Message]]:
    """Open the survey's next wave and invite every active person; return the invitations
    to send (one personal link each)."""
    if any(w.status == WaveStatus.OPEN for w in survey.waves):
        raise Conflict(f"'{survey.title}' already has an open wave",
                       [FieldError("survey", "close the open wave first")])
    if survey.cadence == Cadence.ONCE and survey.waves:
        raise Conflict(f"'{survey.title}' runs once and has run",
                       [FieldError("survey", "a baseline has one wave")])
    wave = Wave(survey=survey, number=len(survey.waves) + 1, opens_on=opens_on,
                closes_on=opens_on + timedelta(days=survey.days_open - 1),
                status=WaveStatus.OPEN)
    db.session.add(wave)
    db.session.flush()
    people = db.session.scalars(
        sa.select(Person).where(Person.active.is_(True)).order_by(Person.id)
    ).all()
    messages = []
    for person in people:
        nonce = secrets.token_hex(16)
        inv = Invitation(wave=wave, person=person, nonce=nonce, token_hash=_hash(_token(nonce)),
                         **coarse_attributes(person))
        db.session.add(inv)
        messages.append(inv)
    db.session.flush()
    record(actor, "open", "survey_wave", wave.id, None,
           {"survey": survey.title, "number": wave.number, "invited": len(messages)})
    return wave, [_message(inv, reminder=False) for inv in messages]


def close_wave(wave: Wave, actor: Actor) -> Wave:
    if wave.status != WaveStatus.CLOSED:
        wave.status = WaveStatus.CLOSED
        db.session.flush()
        record(actor, "close", "survey_wave", wave.id, None, {"number": wave.number})
    return wave


def _not_answered(wave: Wave) -> sa.Select[Invitation]:
    """The wave's invitations not answered whose person is still here (never an erased
    person, nor a leaver, nor an invitation whose person has been emptied)."""
    return (sa.select(Invitation).join(Person, Invitation.person_id == Person.id)
            .where(Invitation.wave_id == wave.id, Invitation.responded.is_(False),
                   Person.active.is_(True))
            .order_by(Invitation.id))


def reminders(wave: Wave) -> list[Message]:
    """Reminders, sent by hand, for everyone invited who has not answered an open wave."""
    if wave.status != WaveStatus.OPEN:
        raise Conflict("The wave is closed", [FieldError("wave", "reminders go to open waves")])
    invs = db.session.scalars(_not_answered(wave)).all()
    for inv in invs:
        inv.reminders_sent += 1
    db.session.flush()
    return [_message(inv, reminder=True) for inv in invs]


def open_due_waves(today: date, actor: Actor = SCHEDULER_ACTOR, *,
                   send: bool = True) -> tuple[list[Wave], list[Message]]:
    """The nightly part: close waves past their closing day, and open each recurring
    survey's wave that is due (its next opening on or before ``today``), moving the next
    opening on by the survey's period; queue the invitations in the mail outbox (unless
    ``send`` is false). Flush-only; returns the waves opened and the invitations."""
    for wave in db.session.scalars(
        sa.select(Wave).where(Wave.status == WaveStatus.OPEN, Wave.closes_on < today)
    ):
        close_wave(wave, actor)
    opened: list[Wave] = []
    messages: list[Message] = []
    due = db.session.scalars(
        sa.select(Survey).where(Survey.next_wave_on.is_not(None), Survey.next_wave_on <= today)
        .order_by(Survey.id)
    ).all()
    for survey in due:
        if any(w.status == WaveStatus.OPEN for w in survey.waves):
            continue
        wave, sent = open_wave(survey, today, actor)
        opened.append(wave)
        messages.extend(sent)
        if send:
            send_messages(sent, "survey_invitation")
        months = CADENCE_MONTHS[survey.cadence]
        nxt = survey.next_wave_on or today
        while nxt <= today:
            nxt = add_months(nxt, months)
        survey.next_wave_on = nxt
    db.session.flush()
    return opened, messages


def reminder_days(wave: Wave) -> dict[str, date]:
    """The days of the wave's scheduled reminders: its survey's ``remind_after_days`` after
    it opens and ``remind_before_days`` before its last day. A day that is not after the
    opening day, or is after the last day, has no reminder."""
    survey = wave.survey
    days: dict[str, date] = {}
    if survey.remind_after_days is not None:
        days[AFTER_OPENING] = wave.opens_on + timedelta(days=survey.remind_after_days)
    if survey.remind_before_days is not None:
        days[BEFORE_CLOSING] = wave.closes_on - timedelta(days=survey.remind_before_days)
    return {point: day for point, day in days.items() if wave.opens_on < day <= wave.closes_on}


def send_due_reminders(today: date, *, send: bool = True) -> list[Message]:
    """The nightly part's reminders: for each open wave whose reminder day has come (and
    that has not passed its last day), one reminder to each invitation not answered that has
    not had that reminder. A night missed is caught up the next night; when both reminders
    are due at once, one e-mail stands for both. Each reminder is marked on its invitation
    and keyed in the outbox by invitation and reminder, so running the night twice sends
    nothing more. Flush-only; returns the reminders (queued unless ``send`` is false)."""
    messages: list[Message] = []
    waves = db.session.scalars(
        sa.select(Wave).where(Wave.status == WaveStatus.OPEN, Wave.opens_on < today,
                              Wave.closes_on >= today).order_by(Wave.id)
    ).all()
    for wave in waves:
        due = [point for point, day in sorted(reminder_days(wave).items(),
                                               key=lambda item: item[1]) if day <= today]
        if not due:
            continue
        for inv in db.session.scalars(_not_answered(wave)):
            missing = [point for point in due if not getattr(inv, REMINDER_FLAGS[point])]
            if not missing:
                continue
            for point in due:
                setattr(inv, REMINDER_FLAGS[point], True)
            messages.append(_message(inv, reminder=True,
                                     key=f"survey-reminder:{inv.id}:{missing[-1]}"))
    db.session.flush()
    if send:
        send_messages(messages, "survey_reminder")
    return messages


def nightly(today: date) -> str:
    """The night's survey part: waves closed and opened (:func:`open_due_waves`), then the
    scheduled reminders (:func:`send_due_reminders`)."""
    opened, invitations = open_due_waves(today)
    sent = send_due_reminders(today)
    return (f"{len(opened)} survey waves opened, {len(invitations)} invitations queued, "
            f"{len(sent)} reminders queued")


# -- answering -------------------------------------------------------------------------------

def invitation_for(token: str) -> Invitation:
    """The invitation of a personal link; the same 404 for any link that is not one."""
    inv = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == _hash(token)))
    if inv is None:
        raise NotFound("This survey link is not valid")
    return inv


def _answer_for(q: SurveyQuestion, raw: Any, errors: list[FieldError]) -> Answer | None:
    name = f"q{q.id}"
    values = [v for v in (raw if isinstance(raw, list) else [raw]) if v not in (None, "")]
    if not values:
        return None  # every question may be skipped
    if q.kind == QuestionKind.LIKERT:
        try:
            score = int(str(values[0]))
        except ValueError:
            score = 0
        if not 1 <= score <= 5 or len(values) > 1:
            errors.append(FieldError(name, f"Choose one answer from 1 to 5 for: {q.text}"))
            return None
        return Answer(question_id=q.id, score=score)
    if q.kind == QuestionKind.TEXT:
        text = str(values[0]).strip()
        if len(text) > MAX_TEXT:
            errors.append(FieldError(name, f"Write at most {MAX_TEXT} characters for: {q.text}"))
            return None
        return Answer(question_id=q.id, text=text) if text else None
    options = q.options or []
    chosen = [str(v) for v in values]
    if any(c not in options for c in chosen) or (q.kind == QuestionKind.SINGLE and
                                                   len(chosen) > 1):
        how = "one of" if q.kind == QuestionKind.SINGLE else "from"
        errors.append(FieldError(name, f"Choose {how} the answers offered for: {q.text}"))
        return None
    return Answer(question_id=q.id, choices=sorted(set(chosen), key=options.index))


def submit(token: str, answers: Mapping[str, Any]) -> None:
    """Cast one ballot from a personal link: ``answers`` maps ``q<id>`` to a score, a choice,
    a list of choices or text. Refused when the wave is closed or the link has answered."""
    inv = invitation_for(token)
    wave = inv.wave
    today = today_london()
    if wave.status != WaveStatus.OPEN or today > wave.closes_on:
        raise Conflict("This survey has closed", [FieldError("survey", "closed")])
    if inv.responded:
        raise Conflict("You have already answered this survey",
                       [FieldError("survey", "one answer per invitation")])
    errors: list[FieldError] = []
    given = []
    for q in wave.survey.questions:
        a = _answer_for(q, answers.get(f"q{q.id}"), errors)
        if a is not None:
            given.append(a)
    known = {f"q{q.id}" for q in wave.survey.questions}
    for key in answers:
        if key not in known and key != "csrf_token":
            errors.append(FieldError(key, "Not a question of this survey"))
    if errors:
        raise ValidationError("Some answers need correcting", errors)
    inv.responded = True
    db.session.add(Response(wave_id=wave.id, received_on=today, answers=given,
                            profession_group=inv.profession_group,
                            organisation_kind=inv.organisation_kind, borough=inv.borough))
    db.session.flush()


def survey_dict(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id,
        "title": survey.title,
        "cadence": survey.cadence.value,
        "days_open": survey.days_open,
        "next_wave_on": survey.next_wave_on.isoformat() if survey.next_wave_on else None,
        "remind_after_days": survey.remind_after_days,
        "remind_before_days": survey.remind_before_days,
        "questions": [
            {"id": q.id, "position": q.position, "theme": q.theme, "text": q.text,
             "kind": q.kind.value, "options": q.options}
            for q in survey.questions
        ],
        "waves": [wave_dict(w) for w in survey.waves],
    }


def wave_dict(wave: Wave) -> dict[str, Any]:
    invited, responded = db.session.execute(
        sa.select(sa.func.count(Invitation.id),
                  sa.func.count(Invitation.id).filter(Invitation.responded.is_(True)))
        .where(Invitation.wave_id == wave.id)
    ).one()
    return {
        "id": wave.id,
        "survey_id": wave.survey_id,
        "number": wave.number,
        "opens_on": wave.opens_on.isoformat(),
        "closes_on": wave.closes_on.isoformat(),
        "status": wave.status.value,
        "reminders_on": {point: day.isoformat() for point, day in reminder_days(wave).items()},
        "invited": invited,
        "responded": responded if wave.status == WaveStatus.CLOSED else None,
    }
