"""The feed-link API's request schema."""

from __future__ import annotations

from typing import Literal

from ..core.validation import Id, Strict


class FeedLinkIn(Strict):
    kind: Literal["person", "team", "department", "organisation"]
    target_id: Id
