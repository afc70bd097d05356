"""The what-if caps hold under concurrency: counting the queued and running what-ifs and
recording a new one happen one request at a time, so two requests at the same instant cannot
both see room for one more.

- PostgreSQL: a transaction-level advisory lock (as publishing takes for publishes), released
  when the request commits or rolls back; the next request then counts what the first added.
- SQLite has one writer at a time: the write lock is taken before counting (a no-op UPDATE)
  instead of at the insert, so nobody else can record a run between the count and the insert.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..core.extensions import db
from ..models import WhatIfRun

# Any fixed 64-bit number, the same in every process (publishing uses 0x5E17_0001).
WHATIF_CAP_LOCK = 0x5E17_0002


def serialise_cap_checks() -> None:
    """Wait until no other request is between counting the active what-ifs and recording its
    own, and keep the others waiting until this transaction ends. Call before counting."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(WHATIF_CAP_LOCK)))
    else:
        db.session.execute(
            sa.update(WhatIfRun).where(sa.false()).values(id=WhatIfRun.id),
            execution_options={"synchronize_session": False},
        )
