"""Fixtures of the small published world (:func:`support.worlds.published_world`), for a test
module or conftest to import by name::

    from support.published import published_app_config, published_system  # noqa: F401

They are the fixtures ``app_config`` (plans solved inside the request, with a short time
limit: the problems are tiny) and ``system`` (the world's ids, API headers and feed secrets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from support.worlds import START, WEEKS, PublishedWorld, published_world  # noqa: F401

System = PublishedWorld


@pytest.fixture(name="app_config")
def published_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Plans are solved inside the request, with a short time limit (the problems are tiny)."""
    return {**app_config, "SOLVER_TIME_LIMIT": 2.0, "SOLVER_WORKERS": 1}


@pytest.fixture(name="system")
def published_system(app: Flask, make: Callable[..., Any]) -> System:
    return published_world(make)

