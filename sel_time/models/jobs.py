"""Records of scheduled job runs: one per job and night (a unique constraint)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import Model
from .base import UTCDateTime, enum_column


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(Model):
    """One run of a job for one night: unique per job and date, so a night runs once."""

    __tablename__ = "job_run"
    __table_args__ = (sa.UniqueConstraint("job", "run_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(60))
    run_date: Mapped[date] = mapped_column(index=True)  # the Europe/London night it is for
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "run_status"))
    attempts: Mapped[int] = mapped_column(default=1)
    holder: Mapped[str] = mapped_column(sa.String(200))  # host:pid
    trigger: Mapped[str] = mapped_column(sa.String(20))  # cron, catch-up, manual
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stats: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
