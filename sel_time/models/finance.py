"""The backfill rate card: what an hour away from clinical or care work costs to cover."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import Model
from .base import TimestampMixin


class RateCardEntry(TimestampMixin, Model):
    """GBP per hour (stored in pence) for a staff group, in force from ``effective_from``."""

    __tablename__ = "rate_card_entry"
    __table_args__ = (
        sa.UniqueConstraint("staff_group", "effective_from"),
        sa.CheckConstraint("rate_pence_per_hour >= 0", name="rate_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_group: Mapped[str] = mapped_column(sa.String(40), index=True)
    label: Mapped[str] = mapped_column(sa.String(200))
    rate_pence_per_hour: Mapped[int] = mapped_column()
    effective_from: Mapped[date] = mapped_column()
    source: Mapped[str] = mapped_column(sa.Text)

