"""The progress part of the demo: a programme lead, a quarterly pulse survey with two closed
waves of realistic answers (the second a little better than the baseline, so the trend
shows; some groups small enough to be withheld), an ideas list, and the Leadership Fellows
programme on the demo's training cohort. Flush-only."""
from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..core.clock import now_utc
from ..models import Person, Team, User, UserRole
from .bank import BANK, coarse_attributes
from .models import (
    Answer,
    BankQuestion,
    Cadence,
    Idea,
    IdeaStatus,
    IdeaSupport,
    Invitation,
    Programme,
    ProgrammeKind,
    ProgrammeModule,
    QuestionKind,
    Response,
    Survey,
    SurveyQuestion,
    Wave,
    WaveStatus,
)
from .surveys import REMIND_AFTER_DAYS, REMIND_BEFORE_DAYS, add_months

PROGRAMME_LEAD = ("programme@sel-time.demo", "Demo Programme Lead")
QUESTIONS = ["time-protected", "time-enough", "time-lost-why", "training-had", "training-want",
             "skills-investment", "partnership-social-care", "team-time", "frontline-involved",
             "barrier-main"]
# How each profession group tends to answer (mean on 1..5) at the baseline.
LEANING = {"Medical": 2.6, "Nursing and midwifery": 2.9,
           "Allied health, pharmacy and psychology": 3.0, "Social care": 2.4, "Other": 3.1}
COMMENTS = (
    "Clinics overrun into my leadership session most weeks; backfill booked in advance would help.",
    "Rota gaps mean I am pulled back to the ward. {name} has been great at covering when asked.",
    "Meetings get moved onto my protected time. A rule that leadership time is not bookable.",
    "I have had no training in leading across organisations; a shared course with the council.",
    "Social care is invited late to decisions. Joint leadership sessions from the start.",
    "Time as a team is the first thing to go. A fixed monthly slot that the rota protects.",
    "Frontline staff do not hear what we decide. A short monthly briefing for their teams.",
    "Our PCN has no cover for GP sessions; a locum pool for leadership sessions.",
)
IDEAS = (
    ("Make protected time unbookable in e-job plans",
     "Block leadership sessions in e-job planning so that clinics cannot be booked over them.",
     False, IdeaStatus.ADOPTED),
    ("A shared backfill pool across the borough",
     "A bank of sessional cover that any partner can call on for leadership time.", True,
     IdeaStatus.UNDER_REVIEW),
    ("Joint health and social care leadership course",
     "Run the system course with council colleagues in the same cohort.", False,
     IdeaStatus.UNDER_REVIEW),
    ("Shadowing for aspiring frontline leaders",
     "Let band 5 and 6 staff shadow a place lead for a day each quarter.", True,
     IdeaStatus.SUBMITTED),
    ("Monthly leadership huddle by video",
     "Thirty minutes, same time each month, for leaders who cannot travel.", False,
     IdeaStatus.NOT_TAKEN_FORWARD),
)
MODULES = ("Leading across a system", "Partnership with social care and the voluntary sector",
           "Improvement and change", "Coaching conversations", "Finance and business cases",
           "Involving frontline staff", "Presenting the project")


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 1.0))))


def _wave(session: Session, survey: Survey, number: int, opens: date, people: list[Person],
          rng: random.Random, uplift: float, rate: float) -> Wave:
    wave = Wave(survey=survey, number=number, opens_on=opens,
                closes_on=opens + timedelta(days=13), status=WaveStatus.CLOSED)
    session.add(wave)
    session.flush()
    questions = wave.survey.questions
    names = [p.name for p in people]
    for person in people:
        # These waves are closed: their links are never sent, so no key signs them.
        nonce = f"{rng.getrandbits(128):032x}"
        attrs = coarse_attributes(person)
        answered = rng.random() < rate
        session.add(Invitation(wave=wave, person=person, nonce=nonce,
                               token_hash=hashlib.sha256(nonce.encode()).hexdigest(),
                               responded=answered, **attrs))
        if not answered:
            continue
        mean = LEANING.get(attrs["profession_group"], 3.0) + uplift
        ballot = Response(wave_id=wave.id, received_on=opens + timedelta(days=rng.randrange(14)),
                          **attrs)
        for q in questions:
            if rng.random() < 0.05:
                continue  # a skipped question
            if q.kind == QuestionKind.LIKERT:
                ballot.answers.append(Answer(question_id=q.id, score=_score(rng, mean)))
            elif q.kind == QuestionKind.SINGLE:
                ballot.answers.append(Answer(question_id=q.id,
                                             choices=[rng.choice(q.options or [""])]))
            elif q.kind == QuestionKind.MULTIPLE:
                if rng.random() > 0.3:
                    continue  # answered only by those who lost time: small groups withheld
                chosen = sorted(set(rng.sample(q.options or [], rng.randint(1, 2))),
                                key=(q.options or []).index)
                ballot.answers.append(Answer(question_id=q.id, choices=chosen))
            elif rng.random() < 0.4:
                text = rng.choice(COMMENTS).format(name=rng.choice(names))
                ballot.answers.append(Answer(question_id=q.id, text=text))
        session.add(ballot)
    session.flush()
    return wave


def load_progress_demo(session: Session, start: date, seed: int) -> list[tuple[str, UserRole]]:
    """Add the progress demo; return the account it adds (email, role)."""
    rng = random.Random(seed + 15)
    bank = {}
    for code, theme, kind, text, options in BANK:
        bank[code] = BankQuestion(code=code, theme=theme, kind=kind, text=text,
                                  options=list(options) if options else None)
        session.add(bank[code])
    email, name = PROGRAMME_LEAD
    lead = User(email=email, name=name, role=UserRole.PROGRAMME_LEAD, password_hash=None)
    session.add(lead)
    people = list(session.scalars(sa.select(Person).where(Person.active.is_(True))
                                  .order_by(Person.id)))
    baseline = start - timedelta(days=182)
    survey = Survey(title="Leadership time pulse", cadence=Cadence.QUARTERLY, days_open=14,
                    created_by=email, created_at=now_utc(),
                    remind_after_days=REMIND_AFTER_DAYS, remind_before_days=REMIND_BEFORE_DAYS)
    for position, code in enumerate(QUESTIONS, start=1):
        q = bank[code]
        survey.questions.append(SurveyQuestion(position=position, theme=q.theme, text=q.text,
                                               kind=q.kind, options=q.options))
    session.add(survey)
    session.flush()
    _wave(session, survey, 1, baseline, people, rng, uplift=0.0, rate=0.58)
    second = add_months(baseline, 3)
    _wave(session, survey, 2, second, people, rng, uplift=0.35, rate=0.66)
    survey.next_wave_on = add_months(second, 3)
    users = list(session.scalars(sa.select(User).where(User.role == UserRole.LEADER)))
    for i, (title, body, anonymous, status) in enumerate(IDEAS):
        idea = Idea(title=title, body=body, author=None if anonymous or not users else users[0],
                    status=status, submitted_on=baseline + timedelta(days=20 + 9 * i))
        session.add(idea)
        session.flush()
        for u in ([lead] + users)[: 1 + (len(IDEAS) - i) % 3]:
            session.flush()
            session.add(IdeaSupport(idea_id=idea.id, user_id=u.id))
    cohort = session.scalar(sa.select(Team).where(Team.code == "SEL-FELLOWS-2026"))
    if cohort is not None:
        programme = Programme(name="SEL Leadership Fellows 2026", kind=ProgrammeKind.SYSTEM_COURSE,
                              cohort=cohort, completion_modules=len(MODULES) - 1)
        for i, title in enumerate(MODULES, start=1):
            programme.modules.append(ProgrammeModule(position=i, title=title))
        session.add(programme)
    session.flush()
    return [(email, UserRole.PROGRAMME_LEAD)]
