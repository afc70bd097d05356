"""Leaders: who they are, how they work, and when they are away."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from .base import AbsenceKind, Half, Profession, SessionKind, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .organisation import Department, Organisation
    from .roles import RoleAssignment


class Person(TimestampMixin, Model):
    __tablename__ = "person"
    __table_args__ = (
        sa.CheckConstraint("fte > 0 AND fte <= 1.5", name="fte_range"),
        sa.CheckConstraint(
            "backfill_rate_pence IS NULL OR backfill_rate_pence >= 0", name="rate_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    profession: Mapped[Profession] = mapped_column(enum_column(Profession, "profession"))
    specialty: Mapped[str | None] = mapped_column(sa.String(100))
    # Rate-card key for backfill (e.g. "consultant", "afc_band_7", "social_worker").
    staff_group: Mapped[str] = mapped_column(sa.String(40))
    band: Mapped[str | None] = mapped_column(sa.String(10))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    fte: Mapped[float] = mapped_column(default=1.0)
    backfill_rate_pence: Mapped[int | None] = mapped_column()  # per hour; overrides the card
    max_per_day: Mapped[int | None] = mapped_column()
    max_per_week: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    # The generation of this person's signed one-click links (see delivery.delivery_link_token):
    # a reset of their feed, unlinking their user or deactivating it adds one, and every link
    # signed with an older generation is refused from then on.
    link_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()
    department: Mapped[Department | None] = relationship(back_populates="people")
    pattern: Mapped[list[PatternSession]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="(PatternSession.weekday, PatternSession.half)",
    )
    absences: Mapped[list[Absence]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    avoids: Mapped[list[AvoidPreference]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class PatternSession(Model):
    """One half-day of a person's normal working week; a half-day not listed is not worked."""

    __tablename__ = "pattern_session"
    __table_args__ = (sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),)

    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(primary_key=True)  # 0 = Monday
    half: Mapped[Half] = mapped_column(enum_column(Half, "half"), primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind, "session_kind"))

    person: Mapped[Person] = relationship(back_populates="pattern")


ABSENCE_HALF_DAYS = (
    "int4range((start_date - DATE '2000-01-01') * 2"
    " + (CASE WHEN start_half = 'PM' THEN 1 ELSE 0 END),"
    " (end_date - DATE '2000-01-01') * 2 + (CASE WHEN end_half = 'PM' THEN 1 ELSE 0 END), '[]')"
)


class Absence(TimestampMixin, Model):
    """Leave or a fixed commitment, inclusive at half-day grain (from AM/PM to AM/PM)."""

    __tablename__ = "absence"
    __table_args__ = (
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
        # Two requests adding overlapping leave at once cannot both pass the service's check
        # (PostgreSQL; SQLite has one writer at a time). Half-days counted from 2000-01-01.
        ExcludeConstraint(
            ("person_id", "="), (sa.text(ABSENCE_HALF_DAYS), "&&"),
            name="ex_absence_no_overlap", using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AbsenceKind] = mapped_column(enum_column(AbsenceKind, "absence_kind"))
    start_date: Mapped[date] = mapped_column()
    start_half: Mapped[Half] = mapped_column(enum_column(Half, "start_half"), default=Half.AM)
    end_date: Mapped[date] = mapped_column()
    end_half: Mapped[Half] = mapped_column(enum_column(Half, "end_half"), default=Half.PM)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    person: Mapped[Person] = relationship(back_populates="absences")

    def start_key(self) -> tuple[date, int]:
        return (self.start_date, 0 if self.start_half == Half.AM else 1)

    def end_key(self) -> tuple[date, int]:
        return (self.end_date, 0 if self.end_half == Half.AM else 1)


class AvoidPreference(Model):
    """A recurring half-day a leader would rather keep free of protected time."""

    __tablename__ = "avoid_preference"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.UniqueConstraint("person_id", "weekday", "half"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column()
    half: Mapped[Half] = mapped_column(enum_column(Half, "avoid_half"))

    person: Mapped[Person] = relationship(back_populates="avoids")
