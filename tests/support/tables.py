"""Row counts of every table, to show that a refused operation wrote nothing."""
from __future__ import annotations

import sqlalchemy as sa

from sel_time.core.extensions import db


def table_counts() -> dict[str, int]:
    """Rows in every table: compared before and after an operation that must write nothing."""
    return {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}
