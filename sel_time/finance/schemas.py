"""What a what-if asks: whose commitments change, by how much, and what new entitlement applies."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ..core.validation import Strict
from ..models import (
    CommitmentUnit,
    Period,
    Profession,
    RoleLevel,
)

BANDS = ["2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9"]


class PeopleFilter(Strict):
    profession: Profession | None = None
    min_band: str | None = Field(None, description='lowest AfC band, e.g. "7" (7, 8a–8d, 9 match)')
    organisation: str | None = Field(None, description="organisation code")
    leaders_only: bool = Field(True, description="only people who hold a leadership role")


class RoleFilter(Strict):
    code_prefix: str | None = None
    title_contains: str | None = None
    level: RoleLevel | None = None


class CommitmentChange(Strict):
    """Change the commitment of every role matching ``roles``."""

    roles: RoleFilter
    amount: float = Field(gt=0, le=40)
    unit: CommitmentUnit = CommitmentUnit.SESSION
    per: Period = Period.WEEK


class NewEntitlement(Strict):
    """Give everyone matching ``people`` a new protected-time entitlement."""

    people: PeopleFilter
    amount: float = Field(gt=0, le=40)
    unit: CommitmentUnit = CommitmentUnit.SESSION
    per: Period = Period.FORTNIGHT
    title: str = Field("What-if entitlement", max_length=200)


class WhatIfRequest(Strict):
    start: date = Field(description="a Monday")
    weeks: int = Field(12, ge=1, le=26)
    scope: str = "system"
    rate_change_percent: float | None = Field(
        None, ge=-90, le=500, description="e.g. 4 for rates rising 4 %"
    )
    commitment_changes: list[CommitmentChange] = Field(default_factory=list)
    new_entitlements: list[NewEntitlement] = Field(default_factory=list)
    time_limit: float = Field(20, ge=5, le=600, description="seconds for each of the two solves")
