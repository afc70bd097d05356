"""A PostgreSQL schema of a test's own, for tests that run sel-time in other processes (which
cannot share the suite's transaction): created in the database that ``DATABASE_URL`` names
(or the local default), dropped afterwards, skipped outside CI when PostgreSQL is away."""
from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_WANTED = os.environ.get("DATABASE_URL", "").startswith("postgres") or bool(os.environ.get("CI"))


def pg_base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    base = url if url.startswith("postgres") else PG_DEFAULT
    for old in ("postgresql://", "postgres://"):
        if base.startswith(old):
            base = "postgresql+psycopg://" + base[len(old):]
    return base


@dataclass
class PgSchema:
    base: str
    schema: str

    @property
    def url(self) -> str:
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{self.schema}"


def postgres_schema(prefix: str) -> Iterator[PgSchema]:
    """A schema of our own in the PostgreSQL database, dropped afterwards (skipped outside CI
    when PostgreSQL cannot be reached)."""
    base = pg_base_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    try:
        yield PgSchema(base, schema)
    finally:
        deadline = time.monotonic() + 60
        while True:  # PostgreSQL may still be coming back from a restart test
            try:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                admin.dispose()
                time.sleep(1)
        admin.dispose()
