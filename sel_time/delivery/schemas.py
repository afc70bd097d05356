"""The delivery API's request schema: how a session went."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..core.validation import Strict


class DeliveryIn(Strict):
    outcome: Literal["taken", "partial", "lost_clinical_pressure", "lost_sickness", "lost_other"]
    fraction_taken: float | None = Field(
        None, gt=0, lt=1, description="for partial: share of the session taken"
    )
    note: str | None = Field(None, max_length=500)
