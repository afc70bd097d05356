"""The plan API's request schemas."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ..core.validation import Id, Strict


class PlanRequest(Strict):
    start: date = Field(description="a Monday")
    weeks: int = Field(12, ge=1, le=52)
    scope: str = Field(
        "system", max_length=80, description='"system", "organisation:<code>" or "team:<code>"'
    )
    time_limit: float | None = Field(None, ge=1, le=3600, description="seconds")


class ResolveRequest(Strict):
    time_limit: float | None = Field(None, ge=1, le=3600)


class SessionAdd(Strict):
    assignment_id: Id
    slot: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}/[A-Z]{2,4}$", description='e.g. "2026-03-03/AM"')


class SessionEdit(Strict):
    pinned: bool | None = None
    slot: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}/[A-Z]{2,4}$")
