"""Plans: drafts of protected time produced by the solver, reviewed and edited by rota
managers, then published."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from .base import UTCDateTime, enum_column
from .users import RequestedRunMixin

if TYPE_CHECKING:
    from .people import Person
    from .roles import RoleAssignment
    from .teams import Team


class PlanStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DRAFT = "draft"  # solved, awaiting review and publication
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # was published; a later plan replaced it
    FAILED = "failed"
    INFEASIBLE = "infeasible"  # pins, caps and limits clash: see conflicts
    CANCELLED = "cancelled"  # stopped by a rota manager before it finished


class SessionOrigin(enum.StrEnum):
    SOLVER = "solver"
    MANUAL = "manual"


class Plan(RequestedRunMixin, Model):
    __tablename__ = "plan"
    __table_args__ = (sa.CheckConstraint("weeks BETWEEN 1 AND 52", name="weeks_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "system", "organisation:<code>" or "team:<code>"
    scope: Mapped[str] = mapped_column(sa.String(80), index=True)
    # Equal to ``scope`` while queued or running, else null: at most one solve per scope.
    active_scope: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    start_date: Mapped[date] = mapped_column()
    weeks: Mapped[int] = mapped_column()
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"), index=True)
    time_limit: Mapped[float] = mapped_column(default=60.0)
    solver_status: Mapped[str | None] = mapped_column(sa.String(20))
    objective: Mapped[float | None] = mapped_column()
    bound: Mapped[float | None] = mapped_column()
    wall_seconds: Mapped[float | None] = mapped_column()
    problem: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    solution: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    conflicts: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # Things a rota manager must look at (published sessions in the frozen window that the
    # rules no longer allow, for example new leave on a protected session).
    warnings: Mapped[list[str] | None] = mapped_column(sa.JSON)
    edits: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[PlanSession]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanSession.start_at"
    )
    shortfalls: Mapped[list[PlanShortfall]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )

    @property
    def end_date(self) -> date:
        from datetime import timedelta

        return self.start_date + timedelta(weeks=self.weeks, days=-1)


class PlanSession(Model):
    """One protected activity in a plan: an individual session, or a team meeting with its
    attendees."""

    __tablename__ = "plan_session"
    __table_args__ = (
        sa.CheckConstraint(
            "(person_id IS NOT NULL AND team_id IS NULL) "
            "OR (person_id IS NULL AND team_id IS NOT NULL)",
            name="person_or_team",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("role_assignment.id", ondelete="CASCADE")
    )
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"))
    slot: Mapped[str] = mapped_column(sa.String(20))  # "2026-03-02/AM"
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cost_pence: Mapped[int] = mapped_column(default=0)
    pinned: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[SessionOrigin] = mapped_column(
        enum_column(SessionOrigin, "session_origin"), default=SessionOrigin.SOLVER
    )

    plan: Mapped[Plan] = relationship(back_populates="sessions")
    person: Mapped[Person | None] = relationship()
    assignment: Mapped[RoleAssignment | None] = relationship()
    team: Mapped[Team | None] = relationship()
    attendees: Mapped[list[PlanAttendee]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class PlanAttendee(Model):
    """A team member in the slot of a team session: attending, or available but absent."""

    __tablename__ = "plan_attendee"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_session.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    attending: Mapped[bool] = mapped_column(default=True)
    cost_pence: Mapped[int] = mapped_column(default=0)

    session: Mapped[PlanSession] = relationship(back_populates="attendees")
    person: Mapped[Person] = relationship()


class PlanShortfall(Model):
    """A commitment or team window the plan could not fill, and why, in plain words."""

    __tablename__ = "plan_shortfall"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("role_assignment.id", ondelete="CASCADE")
    )
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id", ondelete="CASCADE"))
    window_from: Mapped[date] = mapped_column()
    window_to: Mapped[date] = mapped_column()
    required: Mapped[int] = mapped_column()
    scheduled: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(20))  # unavailable | constrained | cost
    explanation: Mapped[str] = mapped_column(sa.Text)

    plan: Mapped[Plan] = relationship(back_populates="shortfalls")
    assignment: Mapped[RoleAssignment | None] = relationship()
    team: Mapped[Team | None] = relationship()
