"""Teams that take protected time together: leadership teams, cohorts, learning sets, boards."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model, db
from .base import Period, TeamKind, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .people import Person
    from .roles import LeadershipRole

team_member = sa.Table(
    "team_member",
    db.metadata,
    sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
)


class Team(TimestampMixin, Model):
    __tablename__ = "team"
    __table_args__ = (
        sa.CheckConstraint("sessions_amount > 0", name="sessions_positive"),
        sa.CheckConstraint("quorum >= 1", name="quorum_positive"),
        sa.CheckConstraint(
            "annual_budget_pence IS NULL OR annual_budget_pence >= 0", name="budget_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[TeamKind] = mapped_column(enum_column(TeamKind, "team_kind"))
    sessions_amount: Mapped[int] = mapped_column(default=1)
    sessions_per: Mapped[Period] = mapped_column(enum_column(Period, "team_per"))
    quorum: Mapped[int] = mapped_column(default=2)
    # Allowed half-days as "Wed/PM" strings; empty or null means any working half-day.
    allowed_slots: Mapped[list[str] | None] = mapped_column(sa.JSON)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    funding_role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leadership_role.id"))
    budget_code: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    annual_budget_pence: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The member who may ask to move the team's sessions (rota managers always may); none:
    # only rota managers move them. Always one of the members (the directory checks it).
    lead_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL"), index=True
    )

    members: Mapped[list[Person]] = relationship(secondary=team_member, order_by="Person.name")
    funding_role: Mapped[LeadershipRole | None] = relationship()
    lead: Mapped[Person | None] = relationship(foreign_keys=[lead_person_id])
