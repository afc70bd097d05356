"""A small published system with a leaver who has everything a leader can have: a sign-in
account with an API token and a feed link, leave with a note, a preference, team membership,
published sessions (some already held, recorded with a note), and audit entries about all of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from nightly.conftest import Small, create_with, seed_small
from werkzeug.security import generate_password_hash

from sel_time.accounts import login_throttle
from sel_time.core.audit import Actor
from sel_time.core.auth import create_api_token
from sel_time.core.clock import LONDON, now_utc
from sel_time.core.extensions import db
from sel_time.delivery.recording import record_delivery
from sel_time.feeds import tokens as feeds
from sel_time.models import (
    Attendance,
    FeedKind,
    LoginFailure,
    ProtectedSession,
    RosterStatus,
    User,
    UserRole,
)
from sel_time.nightly.refresh import refresh

PASSWORD = "correct horse battery staple"
LEAVE_NOTE = "Zanzibar wedding of my cousin Philomena"
DELIVERY_NOTE = "Quillfeather audit of the sepsis pathway"


@dataclass
class Leaver:
    small: Small
    person_id: int
    user_id: int
    admin_id: int
    name: str
    email: str
    api_token: str
    admin_token: str
    feed_path: str


@pytest.fixture()
def app(app: Flask) -> Flask:
    app.config.update(REFRESH_TIME_LIMIT=10, SOLVER_WORKERS=2, REFRESH_WEEKS_AHEAD=3,
                      REFRESH_FROZEN_DAYS=0, WTF_CSRF_ENABLED=False)
    return app


@pytest.fixture()
def leaver(app: Flask) -> Leaver:
    create = create_with()
    small = seed_small(create)
    result = refresh("cron", now=now_utc() - timedelta(days=1))
    assert result.ran and result.stats["added"] > 0, result.message
    ada = small.ada
    user = User(email="ada@nhs.net", name="Ada Okafor", role=UserRole.LEADER, person_id=ada,
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    admin = User(email="admin@privacy.test", name="Admin", role=UserRole.ADMIN,
                 password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    db.session.add_all([user, admin])
    db.session.flush()
    _, api_token = create_api_token(user, "Ada's script")
    _, admin_token = create_api_token(admin, "admin")
    _, secret = feeds.issue_token(user, FeedKind.PERSON, ada, Actor.for_user(user))
    db.session.commit()
    future = now_utc() + timedelta(days=60)
    create("absences", person_id=ada, kind="annual", start_date=future.date().isoformat(),
           end_date=future.date().isoformat(), note=LEAVE_NOTE)
    create("preferences", person_id=ada, day="Wed", half="PM")
    # Held sessions: Ada's and Ben's, recorded (Ada's with a note).
    today = now_utc().astimezone(LONDON).date()
    for n, pid in enumerate((ada, small.ben, ada)):
        day = today - timedelta(days=8 + n)
        start = datetime.combine(day, datetime.min.time()).replace(hour=9, tzinfo=LONDON)
        session = ProtectedSession(
            uid=f"held-{n}@privacy", person_id=pid, slot=f"{day.isoformat()}/AM",
            start_at=start, end_at=start + timedelta(hours=4), status=RosterStatus.CONFIRMED,
            sequence=0, published_at=now_utc() - timedelta(days=30),
            last_modified=now_utc() - timedelta(days=30))
        session.attendances.append(Attendance(person_id=pid, cost_pence=40000 + n))
        db.session.add(session)
        db.session.flush()
        outcome = "partial" if n == 2 else "taken"
        record_delivery(session.attendances[0], outcome, 0.5 if n == 2 else None,
                        DELIVERY_NOTE if pid == ada else None, Actor.for_user(user))
    # A failed sign-in of hers (the throttle's digests only).
    keys = login_throttle.Keys.of("ada@nhs.net", "192.0.2.9")
    login_throttle.record_failure(keys)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(LoginFailure.id)))
    return Leaver(small, ada, user.id, admin.id, "Ada Okafor", "ada@nhs.net", api_token,
                  admin_token, f"/feeds/{secret}.ics")
