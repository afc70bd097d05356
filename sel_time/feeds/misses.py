"""Throttling of feed-token misses: requests for a feed that does not exist.

Only misses are counted and only misses are refused: after ``FEED_MISS_LIMIT`` misses (30)
from one client address within ``FEED_MISS_WINDOW`` seconds (60), further misses from it get
429 with Retry-After instead of 404 until the oldest has aged out, but a valid token is always
served, whatever other requests from that address (or everyone behind the same proxy or NAT)
have done. A refused miss is not counted, so a guesser cannot keep the address refused for
longer than a window after they stop.

A guesser still learns, after the limit as before it, whether a token is valid: the defence
against guessing is the token's 256 bits, not this limiter, which keeps misses to noise in the
logs and the audit of who is probing. Counting uses the maintained ``limits`` library's moving
window, in the storage ``SEL_TIME_RATELIMIT_STORAGE`` names: ``memory://`` (each process
counts its own; the embedded default) or ``redis://host:6379`` (every gunicorn worker and
machine shares one count). If that storage cannot be reached, misses are answered 404 and a
warning is logged: the throttle fails open rather than taking feeds down with it.
"""
from __future__ import annotations

import logging
import math
import time

from flask import Flask
from limits import RateLimitItemPerSecond
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..core.startup import ConfigurationError

log = logging.getLogger(__name__)

EXTENSION = "sel_time.feed_misses"


class MissLimiter:
    """A moving window of misses per client address."""

    def __init__(self, storage_uri: str, limit: int = 30, window: int = 60,
                 prefix: str = "sel-time") -> None:
        self.item = RateLimitItemPerSecond(limit, window)
        self.prefix = prefix
        storage = storage_from_string(storage_uri, wrap_exceptions=True)
        self.strategy = MovingWindowRateLimiter(storage)

    def miss(self, address: str) -> int | None:
        """Count one miss from ``address``: None if it is within the limit (answer 404), or
        the seconds until the address may miss again (answer 429; this miss is not counted)."""
        try:
            if self.strategy.hit(self.item, self.prefix, "feed-miss", address):
                return None
            stats = self.strategy.get_window_stats(self.item, self.prefix, "feed-miss", address)
        except StorageError as exc:
            log.warning("Feed miss throttle storage unavailable (%s): miss not counted", exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    def clear(self, address: str) -> None:
        self.strategy.clear(self.item, self.prefix, "feed-miss", address)


def limiter_for(app: Flask) -> MissLimiter:
    """The app's miss limiter, made from its configuration on first use."""
    limiter = app.extensions.get(EXTENSION)
    if limiter is None:
        limiter = app.extensions[EXTENSION] = MissLimiter(
            str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")),
            int(app.config.get("FEED_MISS_LIMIT", 30)), int(app.config.get("FEED_MISS_WINDOW", 60)),
            str(app.config.get("RATELIMIT_KEY_PREFIX", "sel-time")))
    return limiter


def start_feed_miss_limiter(app: Flask) -> None:
    """The feed-miss throttle, made at start-up so that a bad storage URI stops the start."""
    try:
        limiter_for(app)
    except LimitsConfigurationError as exc:
        raise ConfigurationError(
            "SEL_TIME_RATELIMIT_STORAGE must be a storage the limits library knows, such as"
            f" memory:// or redis://127.0.0.1:6379, not {app.config.get('RATELIMIT_STORAGE_URI')!r}"
            f" ({exc})"
        ) from exc
