"""What-if runs: a finance projection (baseline and changed scenario, two solves) recorded and
run in the background like a plan, so the browser can follow its progress."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, enum_column

if TYPE_CHECKING:
    from .users import User


class WhatIfStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class WhatIfRun(db.Model):
    __tablename__ = "whatif_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[WhatIfStatus] = mapped_column(enum_column(WhatIfStatus, "whatif_status"), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # the WhatIfRequest as JSON
    progress: Mapped[float] = mapped_column(default=0.0)
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by: Mapped[str] = mapped_column(sa.String(254))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[User | None] = relationship()
