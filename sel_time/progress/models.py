"""Tracking progress: surveys (a question bank, surveys, waves, invitations and anonymous
responses), ideas, and training programmes.

The ballot box: an :class:`Invitation` knows a person and whether they have responded; a
:class:`Response` knows none of that. A response carries no user or person id, no foreign key
to the invitation, a random identifier (so its order of arrival is not in its id), the day it
came in (never the time) and three coarse attributes copied at invitation: profession group,
organisation kind and borough.
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from ..models.base import UTCDateTime, enum_column

if TYPE_CHECKING:
    from ..models import Person, Team, User


class QuestionKind(enum.StrEnum):
    LIKERT = "likert"  # 1 strongly disagree .. 5 strongly agree
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class Cadence(enum.StrEnum):
    ONCE = "once"  # a baseline
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class WaveStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class IdeaStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ADOPTED = "adopted"
    NOT_TAKEN_FORWARD = "not_taken_forward"


class ProgrammeKind(enum.StrEnum):
    LEADERSHIP_ACADEMY = "leadership_academy"  # a cohort of an NHS Leadership Academy programme
    SYSTEM_COURSE = "system_course"  # the system's own leadership course


class BankQuestion(Model):
    """A question of the bank, under one of the themes the system named."""

    __tablename__ = "bank_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    theme: Mapped[str] = mapped_column(sa.String(80))
    text: Mapped[str] = mapped_column(sa.String(500))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "bank_question_kind"))
    options: Mapped[list[str] | None] = mapped_column(sa.JSON)


class Survey(Model):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    cadence: Mapped[Cadence] = mapped_column(enum_column(Cadence, "survey_cadence"))
    days_open: Mapped[int] = mapped_column(default=14)
    next_wave_on: Mapped[date | None] = mapped_column()  # a recurring survey's next opening
    # The nightly reminders of each wave: this many days after it opens, and this many days
    # before its last day (0: on the last day); None for no such reminder. (No default here:
    # one would stand in for an explicit None; create_survey gives 3 and 2.)
    remind_after_days: Mapped[int | None] = mapped_column()
    remind_before_days: Mapped[int | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="SurveyQuestion.position"
    )
    waves: Mapped[list[Wave]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="Wave.number"
    )


class SurveyQuestion(Model):
    __tablename__ = "survey_question"
    __table_args__ = (sa.UniqueConstraint("survey_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("survey.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    theme: Mapped[str] = mapped_column(sa.String(80))
    text: Mapped[str] = mapped_column(sa.String(500))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "question_kind"))
    options: Mapped[list[str] | None] = mapped_column(sa.JSON)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class Wave(Model):
    """One run of a survey: the baseline is wave 1; a pulse adds one each period."""

    __tablename__ = "survey_wave"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "number"),
        sa.CheckConstraint("closes_on >= opens_on", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    opens_on: Mapped[date] = mapped_column()
    closes_on: Mapped[date] = mapped_column()
    status: Mapped[WaveStatus] = mapped_column(enum_column(WaveStatus, "wave_status"))

    survey: Mapped[Survey] = relationship(back_populates="waves")


class Invitation(Model):
    """Who was invited to a wave, their personal link (its hash only) and whether they have
    responded: the electoral roll, kept apart from the ballots."""

    __tablename__ = "survey_invitation"
    __table_args__ = (sa.UniqueConstraint("wave_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_wave.id", ondelete="CASCADE"), index=True
    )
    # Emptied (with the link) once the wave has been closed for the retention period
    # (SEL_TIME_RETAIN_SURVEY_INVITATIONS_DAYS): the row stays, for the response rate and the
    # groups' sizes, with nobody's name on it.
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"))
    # The personal link's token is an HMAC of this nonce under the app's secret key (so a
    # reminder can carry the same link); only the token's SHA-256 is looked up.
    nonce: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Coarse attributes fixed at invitation (copied onto the response, nothing finer).
    profession_group: Mapped[str] = mapped_column(sa.String(40))
    organisation_kind: Mapped[str] = mapped_column(sa.String(40))
    borough: Mapped[str] = mapped_column(sa.String(40))
    responded: Mapped[bool] = mapped_column(default=False)  # no time: only whether
    reminders_sent: Mapped[int] = mapped_column(default=0)
    # Which of the wave's scheduled reminders this invitation has had (each at most once).
    reminded_after_opening: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false())
    reminded_before_closing: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false())

    wave: Mapped[Wave] = relationship()
    person: Mapped[Person | None] = relationship()


def random_response_id() -> str:
    return secrets.token_hex(16)


class Response(Model):
    """One anonymous ballot. No person, user or invitation key; no time finer than the day."""

    __tablename__ = "survey_response"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_response_id)
    wave_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_wave.id", ondelete="CASCADE"), index=True
    )
    received_on: Mapped[date] = mapped_column()
    profession_group: Mapped[str] = mapped_column(sa.String(40))
    organisation_kind: Mapped[str] = mapped_column(sa.String(40))
    borough: Mapped[str] = mapped_column(sa.String(40))

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Model):
    __tablename__ = "survey_answer"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_response_id)
    response_id: Mapped[str] = mapped_column(
        sa.ForeignKey("survey_response.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_question.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int | None] = mapped_column()  # a Likert answer, 1..5
    choices: Mapped[list[str] | None] = mapped_column(sa.JSON)  # single or multiple choice
    text: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[SurveyQuestion] = relationship()


class Idea(Model):
    __tablename__ = "idea"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # Null for an anonymous idea: nothing else records who sent it.
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    status: Mapped[IdeaStatus] = mapped_column(enum_column(IdeaStatus, "idea_status"))
    moderation_note: Mapped[str | None] = mapped_column(sa.String(500))
    submitted_on: Mapped[date] = mapped_column()

    author: Mapped[User | None] = relationship()
    supports: Mapped[list[IdeaSupport]] = relationship(
        back_populates="idea", cascade="all, delete-orphan"
    )


class IdeaSupport(Model):
    __tablename__ = "idea_support"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )

    idea: Mapped[Idea] = relationship(back_populates="supports")


class Programme(Model):
    """A training programme: its cohort is a training-cohort team whose sessions the solver
    rosters; its modules are held, in order, in those sessions."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ProgrammeKind] = mapped_column(enum_column(ProgrammeKind, "programme_kind"))
    cohort_team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("team.id", ondelete="CASCADE"), unique=True
    )
    # Of the modules, how many a member must attend to complete.
    completion_modules: Mapped[int | None] = mapped_column()

    cohort: Mapped[Team] = relationship()
    modules: Mapped[list[ProgrammeModule]] = relationship(
        back_populates="programme", cascade="all, delete-orphan",
        order_by="ProgrammeModule.position",
    )


class ProgrammeModule(Model):
    __tablename__ = "programme_module"
    __table_args__ = (sa.UniqueConstraint("programme_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programme.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200))

    programme: Mapped[Programme] = relationship(back_populates="modules")
