"""Organisations of the integrated care system and their departments (units of service cover)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.extensions import Model
from .base import Borough, OrgKind, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .people import Person


class Organisation(TimestampMixin, Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"))
    borough: Mapped[Borough] = mapped_column(enum_column(Borough, "borough"))
    # Nightly refresh policy: publish automatically, or leave a draft for a rota manager.
    auto_publish: Mapped[bool] = mapped_column(default=True)

    departments: Mapped[list[Department]] = relationship(
        back_populates="organisation", order_by="Department.name"
    )


class Department(TimestampMixin, Model):
    """A service whose cover limits how many of its people may be away in one session."""

    __tablename__ = "department"
    __table_args__ = (sa.CheckConstraint("max_away >= 0", name="max_away_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    max_away: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship(back_populates="departments")
    people: Mapped[list[Person]] = relationship(back_populates="department")
