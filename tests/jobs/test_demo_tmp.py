import time
from datetime import date, timedelta
import sqlalchemy as sa
import time_machine
from sel_time.demo import DEFAULT_START, load_demo
from sel_time.extensions import db
from sel_time.jobs import refresh, refresh_scopes
from .conftest import night, roster_snapshot

def test_demo(app):
    load_demo(db.session, start=DEFAULT_START); db.session.commit()
    print(refresh_scopes())
    app.config["REFRESH_TIME_LIMIT"] = 60
    app.config["REFRESH_FROZEN_DAYS"] = 0
    t = time.monotonic()
    with time_machine.travel(night(date(2026, 11, 30)), tick=True):
        r = refresh("cron"); print(r.message, r.stats["solver_seconds"], time.monotonic() - t)
    app.config["REFRESH_FROZEN_DAYS"] = 14
    for d in (1, 2, 3):
        with time_machine.travel(night(date(2026, 11, 30) + timedelta(days=d)), tick=True):
            r = refresh("cron"); print(r.message, r.stats["solver_seconds"], r.stats["skipped"], time.monotonic() - t)
    assert 0
