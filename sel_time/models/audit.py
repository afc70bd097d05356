"""The audit trail: who changed what and when, with old and new values."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import Model
from .base import UTCDateTime


class AuditEvent(Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))  # user email, "cli" or "scheduler"
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(40))  # create, update, delete, import, ...
    entity: Mapped[str] = mapped_column(sa.String(40), index=True)
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    old: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
