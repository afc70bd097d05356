"""Environments for the real processes tests start (gunicorn, ``sel-time`` commands).

They run with production settings, the default, so they need a strong ``SECRET_KEY``: one per
test session, shared by every process of it (a gunicorn worker must read another's cookies).
"""
from __future__ import annotations

import os
import secrets

SECRET_KEY = os.environ.get("SEL_TIME_TEST_SECRET_KEY") or secrets.token_hex(32)


def process_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment, less any ``SEL_TIME_*`` setting) with a
    production ``SECRET_KEY`` and ``extra``."""
    env = dict(base) if base is not None else {
        k: v for k, v in os.environ.items() if not k.startswith("SEL_TIME_")}
    env.setdefault("SECRET_KEY", SECRET_KEY)
    env.update(extra)
    return env
