"""Environments for the real processes tests start (gunicorn, ``sel-time`` commands).

They run with production settings, the default, so they need a strong ``SECRET_KEY``: one per
test session, shared by every process of it (a gunicorn worker must read another's cookies).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SECRET_KEY = os.environ.get("SEL_TIME_TEST_SECRET_KEY") or secrets.token_hex(32)


def process_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment, less any ``SEL_TIME_*`` setting) with a
    production ``SECRET_KEY`` and ``extra``."""
    env = dict(base) if base is not None else {
        k: v for k, v in os.environ.items() if not k.startswith("SEL_TIME_")}
    env.setdefault("SECRET_KEY", SECRET_KEY)
    env.update(extra)
    return env


BIN = Path(sys.executable).parent
SEL_TIME = str(BIN / "sel-time")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Database:
    """A database URL, and ``sel-time`` run against it in real processes (production
    settings, a short solve, two workers); ``settings`` adds environment for every process,
    ``new_sessions`` starts each in its own process group (so a test can kill the group)."""

    url: str
    settings: dict[str, str] = field(default_factory=dict)
    new_sessions: bool = False

    @property
    def kind(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    def env(self, **extra: str) -> dict[str, str]:
        return process_env(
            DATABASE_URL=self.url,
            SEL_TIME_REFRESH_TIME_LIMIT="10",
            SEL_TIME_SOLVER_WORKERS="2",
            PYTHONUNBUFFERED="1",
            **{**self.settings, **extra},
        )

    def run(
        self, *args: str, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SEL_TIME, *args], env=self.env(**extra), capture_output=True, text=True,
            timeout=timeout, cwd=ROOT, check=False,
        )

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [SEL_TIME, *args], env=self.env(**extra), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=self.new_sessions,
        )

    def start_refresh(self, **extra: str) -> subprocess.Popen[str]:
        return self.start("refresh", **extra)


def migrate(database: Database) -> None:
    """``sel-time db upgrade`` in a real process."""
    done = database.run("db", "upgrade")
    assert done.returncode == 0, done.stderr
