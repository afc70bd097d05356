"""What-if runs: a finance projection (baseline and changed scenario, two solves) recorded and
run in the background like a plan, so the browser can follow its progress."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import Model
from .base import enum_column
from .users import RequestedRunMixin


class WhatIfStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WhatIfRun(RequestedRunMixin, Model):
    __tablename__ = "whatif_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[WhatIfStatus] = mapped_column(
        enum_column(WhatIfStatus, "whatif_status"), index=True
    )
    request: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # the WhatIfRequest as JSON
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
