"""The published roster: protected sessions leaders see in their calendars, each with a
stable identity, a sequence number, a fixed backfill cost and a delivery record."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from .base import UTCDateTime, enum_column

if TYPE_CHECKING:
    from .people import Person
    from .plans import Plan
    from .roles import RoleAssignment
    from .teams import Team


class RosterStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # removed by a later publish; feeds show it cancelled briefly


class Outcome(enum.StrEnum):
    TAKEN = "taken"
    PARTIAL = "partial"
    LOST_CLINICAL = "lost_clinical_pressure"
    LOST_SICKNESS = "lost_sickness"
    LOST_OTHER = "lost_other"


LIVE_ASSIGNMENT = "status = 'confirmed' AND assignment_id IS NOT NULL"
LIVE_TEAM = "status = 'confirmed' AND team_id IS NOT NULL"


class ProtectedSession(Model):
    __tablename__ = "protected_session"
    __table_args__ = (
        sa.CheckConstraint(
            "(person_id IS NOT NULL AND team_id IS NULL) "
            "OR (person_id IS NULL AND team_id IS NOT NULL)",
            name="person_or_team",
        ),
        sa.Index("ix_protected_session_start_status", "start_at", "status"),
        # One live session per (assignment, slot) and per (team, slot): the last line against
        # two publishes that both add the same session.
        sa.Index(
            "uq_protected_session_live_assignment_slot",
            "assignment_id",
            "slot",
            unique=True,
            postgresql_where=sa.text(LIVE_ASSIGNMENT),
            sqlite_where=sa.text(LIVE_ASSIGNMENT),
        ),
        sa.Index(
            "uq_protected_session_live_team_slot",
            "team_id",
            "slot",
            unique=True,
            postgresql_where=sa.text(LIVE_TEAM),
            sqlite_where=sa.text(LIVE_TEAM),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(80), unique=True)  # iCalendar UID, never changes
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("role_assignment.id", ondelete="SET NULL")
    )
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("team.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(sa.String(20))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[RosterStatus] = mapped_column(enum_column(RosterStatus, "roster_status"))
    sequence: Mapped[int] = mapped_column(default=0)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship()
    assignment: Mapped[RoleAssignment | None] = relationship()
    team: Mapped[Team | None] = relationship()
    plan: Mapped[Plan | None] = relationship()
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Attendance.person_id"
    )


class Attendance(Model):
    """One person's part in a published session, with the backfill cost fixed at publication
    and, once it has happened, whether the time was actually taken."""

    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "person_id"),
        sa.CheckConstraint(
            "fraction_taken IS NULL OR (fraction_taken >= 0 AND fraction_taken <= 1)",
            name="fraction_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protected_session.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    cost_pence: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "outcome"))
    fraction_taken: Mapped[float | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(sa.String(500))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str | None] = mapped_column(sa.String(254))

    session: Mapped[ProtectedSession] = relationship(back_populates="attendances")
    person: Mapped[Person] = relationship()
