"""Fixtures for the feed tests: an event factory and ical.js under Node."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sel_time.feeds import render
from sel_time.feeds.render import FeedEvent
from tests.feeds.parsers import utc

JS_DIR = Path(__file__).parent / "js"
# A zone far from London and UTC: if ical.js ever fell back to floating time it would use the
# process's local zone, and every time would come out 11-13 hours wrong.
NODE_TZ = "Pacific/Auckland"


@pytest.fixture(autouse=True)
def _cold_render_caches() -> None:
    """Start every test with empty render caches, so each one exercises the serialiser."""
    render._vevent_bytes.cache_clear()
    render._vtimezone_bytes.cache_clear()


@pytest.fixture
def make_event() -> Callable[..., FeedEvent]:
    """Return a factory of `FeedEvent`s with sensible defaults; override any field by name."""

    def make(**overrides: Any) -> FeedEvent:
        fields: dict[str, Any] = {
            "uid": "session-1@sel-time",
            "start": utc(2027, 1, 11, 9),
            "end": utc(2027, 1, 11, 13),
            "summary": "Protected time: PCN clinical director",
            "description": "Lewisham PCN 3 · leadership of the frailty pathway",
            "last_modified": utc(2026, 11, 20, 10, 30),
        }
        fields.update(overrides)
        return FeedEvent(**fields)

    return make


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def icaljs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], dict[str, Any]]:
    """Return a function that parses a feed with Mozilla's ical.js under Node.

    Installs the pinned ical.js with `npm ci` once if `tests/feeds/js/node_modules` is
    missing. Without Node the tests skip on a developer's machine but fail in CI.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "node and npm are needed to parse feeds with ical.js"
        if _is_ci():
            pytest.fail(message)
        pytest.skip(message)
    if not (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci --prefix {JS_DIR} failed:\n{result.stdout}\n{result.stderr}")
    workdir = tmp_path_factory.mktemp("icaljs")
    counter = itertools.count()

    def parse(body: bytes) -> dict[str, Any]:
        path = workdir / f"feed-{next(counter)}.ics"
        path.write_bytes(body)
        result = subprocess.run(
            [node, str(JS_DIR / "parse_feed.mjs"), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "TZ": NODE_TZ},
        )
        assert result.returncode == 0, f"ical.js could not parse {path}:\n{result.stderr}"
        return json.loads(result.stdout)

    return parse
