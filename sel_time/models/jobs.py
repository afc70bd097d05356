"""Records of scheduled job runs: one per job and night (a unique constraint), and the parts of
a nightly refresh (one per scope, each solved by a queue worker)."""
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
    CANCELLED = "cancelled"


class PartStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


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
    # The night's parts: how many, and how many have finished (the barrier: the part whose
    # finish makes them equal publishes the night).
    parts_total: Mapped[int] = mapped_column(default=0, server_default="0")
    parts_done: Mapped[int] = mapped_column(default=0, server_default="0")


class NightPart(Model):
    """One scope of a nightly refresh, solved by a queue task of its own. Parts of one
    ``wave`` run at once (on any workers); a wave starts when the one before it has finished
    (teams spanning organisations first, then the organisations, planned around them)."""

    __tablename__ = "night_part"
    __table_args__ = (sa.UniqueConstraint("run_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("job_run.id", ondelete="CASCADE"),
                                        index=True)
    scope: Mapped[str] = mapped_column(sa.String(80))
    wave: Mapped[int] = mapped_column(default=0)
    status: Mapped[PartStatus] = mapped_column(enum_column(PartStatus, "part_status"))
    attempt: Mapped[int] = mapped_column(default=1)
    time_limit: Mapped[float] = mapped_column(sa.Float)
    task_id: Mapped[str | None] = mapped_column(sa.String(64))
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.Text)  # why it failed, or was skipped
    stats: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
