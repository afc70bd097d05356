"""Leadership roles, their time commitments, and who holds them."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from .base import CommitmentUnit, Period, RoleLevel, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .organisation import Organisation
    from .people import Person


class LeadershipRole(TimestampMixin, Model):
    __tablename__ = "leadership_role"
    __table_args__ = (
        sa.CheckConstraint("commitment_amount > 0", name="commitment_positive"),
        sa.CheckConstraint(
            "annual_budget_pence IS NULL OR annual_budget_pence >= 0", name="budget_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[RoleLevel] = mapped_column(enum_column(RoleLevel, "role_level"))
    host_organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id"), index=True
    )
    commitment_amount: Mapped[float] = mapped_column()
    commitment_unit: Mapped[CommitmentUnit] = mapped_column(
        enum_column(CommitmentUnit, "commitment_unit")
    )
    commitment_per: Mapped[Period] = mapped_column(enum_column(Period, "commitment_per"))
    budget_code: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    annual_budget_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    description: Mapped[str | None] = mapped_column(sa.Text)

    host_organisation: Mapped[Organisation] = relationship()
    assignments: Mapped[list[RoleAssignment]] = relationship(back_populates="role")


class RoleAssignment(TimestampMixin, Model):
    """A person holding a role from ``start_date`` to ``end_date`` (inclusive, open if null)."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
        sa.CheckConstraint("share > 0 AND share <= 1", name="share_range"),
        sa.CheckConstraint(
            "commitment_amount IS NULL OR commitment_amount > 0", name="override_positive"
        ),
        # One holding of a role per person at a time, even when two requests add one at once
        # (PostgreSQL; SQLite has one writer at a time). An open end is an unbounded range.
        ExcludeConstraint(
            ("person_id", "="), ("role_id", "="),
            (sa.text("daterange(start_date, end_date, '[]')"), "&&"),
            name="ex_role_assignment_no_overlap", using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    role_id: Mapped[int] = mapped_column(sa.ForeignKey("leadership_role.id"), index=True)
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date | None] = mapped_column()
    # Part-time holding of the role (a job share at 0.6 takes 60 % of the commitment).
    share: Mapped[float] = mapped_column(default=1.0)
    # Optional override of the role's commitment for this holder.
    commitment_amount: Mapped[float | None] = mapped_column()
    commitment_unit: Mapped[CommitmentUnit | None] = mapped_column(
        enum_column(CommitmentUnit, "override_unit")
    )
    commitment_per: Mapped[Period | None] = mapped_column(enum_column(Period, "override_per"))

    person: Mapped[Person] = relationship(back_populates="assignments")
    role: Mapped[LeadershipRole] = relationship(back_populates="assignments")

    @property
    def effective_commitment(self) -> tuple[float, CommitmentUnit, Period]:
        """Amount, unit and period in force for this holder (override or the role's)."""
        if self.commitment_amount is not None:
            return (
                self.commitment_amount,
                self.commitment_unit or self.role.commitment_unit,
                self.commitment_per or self.role.commitment_per,
            )
        return (self.role.commitment_amount, self.role.commitment_unit, self.role.commitment_per)
