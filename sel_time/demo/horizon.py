"""The demo's horizon: the weeks its leave and fixed commitments fall in."""
from __future__ import annotations

from datetime import date

#: The first Monday of the demo horizon unless another is given.
DEFAULT_START = date(2026, 11, 30)
#: How far ahead of ``start`` leave and fixed commitments are generated.
HORIZON_WEEKS = 16
