"""Shared column types and enumerations of the data model."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..core.clock import UTC, now_utc

if TYPE_CHECKING:
    from .users import User


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR with a named CHECK constraint, stored by value."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


class RequestedRunMixin:
    """What a plan and a what-if run share: who asked and when, progress while it runs (the
    browser polls it), when it started and finished, and why it failed."""

    progress: Mapped[float] = mapped_column(default=0.0)
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by: Mapped[str] = mapped_column(sa.String(254))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The queue: the task that runs it (to revoke it while queued), which attempt this is (a
    # run whose worker was lost is queued once more, and only the latest attempt may write),
    # and whether someone asked to cancel it (its worker stops the solver within a second).
    task_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @declared_attr
    def requester(cls) -> Mapped[User | None]:
        return relationship("User")


class OrgKind(enum.StrEnum):
    ACUTE_TRUST = "acute_trust"
    MENTAL_HEALTH_TRUST = "mental_health_trust"
    COMMUNITY_PROVIDER = "community_provider"
    PRIMARY_CARE_NETWORK = "primary_care_network"
    GP_PRACTICE = "gp_practice"
    LOCAL_AUTHORITY = "local_authority"
    ICB = "icb"
    VOLUNTARY_SECTOR = "voluntary_sector"


class Borough(enum.StrEnum):
    BEXLEY = "Bexley"
    BROMLEY = "Bromley"
    GREENWICH = "Greenwich"
    LAMBETH = "Lambeth"
    LEWISHAM = "Lewisham"
    SOUTHWARK = "Southwark"
    SYSTEM = "System-wide"


class Profession(enum.StrEnum):
    CONSULTANT = "consultant"
    SAS_DOCTOR = "sas_doctor"
    GP = "gp"
    NURSE = "nurse"
    MIDWIFE = "midwife"
    AHP = "ahp"
    PHARMACIST = "pharmacist"
    PSYCHOLOGIST = "psychologist"
    SOCIAL_WORKER = "social_worker"
    CARE_MANAGER = "care_manager"
    PARAMEDIC = "paramedic"
    OTHER = "other"


class Half(enum.StrEnum):
    """The half-day grain of working patterns, leave and slots."""

    AM = "AM"
    PM = "PM"


class SessionKind(enum.StrEnum):
    """What a person's working half-day normally holds."""

    CLINICAL = "clinical"  # clinical or care work: protected time here needs backfill
    NON_CLINICAL = "non_clinical"  # admin, SPA, management: no backfill needed


class AbsenceKind(enum.StrEnum):
    ANNUAL = "annual"
    STUDY = "study"
    SICKNESS = "sickness"
    ON_CALL = "on_call"
    THEATRE_LIST = "theatre_list"
    OTHER = "other"


class RoleLevel(enum.StrEnum):
    SYSTEM = "system"
    PLACE = "place"
    NEIGHBOURHOOD = "neighbourhood"
    ORGANISATION = "organisation"


class CommitmentUnit(enum.StrEnum):
    PA = "pa"  # programmed activity, 4 h
    GP_SESSION = "gp_session"  # 4 h 10 min
    SESSION = "session"  # one half-day slot
    HOURS = "hours"


class Period(enum.StrEnum):
    WEEK = "week"
    FORTNIGHT = "fortnight"
    MONTH = "month"


class TeamKind(enum.StrEnum):
    LEADERSHIP_TEAM = "leadership_team"
    TRAINING_COHORT = "training_cohort"
    ACTION_LEARNING_SET = "action_learning_set"
    BOARD = "board"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    ROTA_MANAGER = "rota_manager"
    FINANCE = "finance"
    LEADER = "leader"


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
