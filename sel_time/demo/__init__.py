"""The south-east-London demo system: :func:`load_demo` and what its callers read.

The data (organisations and services, names, roles, accounts) live apart from the build steps
(people, roles, teams, leave) that :class:`~sel_time.demo.builder.DemoBuilder` runs in order.
"""
from __future__ import annotations

from ..core.clock import monday_on_or_after
from .accounts import DemoAccount
from .builder import DEFAULT_SEED, DemoAlreadyLoaded, DemoSummary, load_demo
from .horizon import DEFAULT_START, HORIZON_WEEKS
from .sizing import PERIOD_WEEKS, sessions_per_week

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "HORIZON_WEEKS",
    "PERIOD_WEEKS",
    "DemoAccount",
    "DemoAlreadyLoaded",
    "DemoSummary",
    "load_demo",
    "monday_on_or_after",
    "sessions_per_week",
]
