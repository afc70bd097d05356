"""The queue carries e-mail and the night's other parts: a transaction that queued a message
asks a worker to deliver it once it commits (and a rolled-back one sends nothing); the nightly
housekeeping applies retention periods, each part in a transaction of its own."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.core.transaction import boundary
from sel_time.mail import MailMessage, MailStatus, queue_message
from sel_time.models import LoginFailure
from sel_time.nightly import tasks as nightly_tasks
from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (a fixture)


@pytest.fixture()
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:  # noqa: F811
    # As in production: a commit that queued e-mail asks the queue (run at once in tests).
    return {**smtp_server.config(), "MAIL_DELIVER_ON_COMMIT": True}


def _queue(subject: str) -> None:
    queue_message(recipient="ada@nhs.net", subject=subject, text="Thursday is yours.",
                  kind="invitation")


def test_a_committed_message_is_delivered_by_the_queue_without_anyone_sending(
        app: Flask, smtp_server: SmtpServer) -> None:  # noqa: F811
    with boundary():
        _queue("One")
        _queue("Two")  # one delivery task for the transaction, two messages

    assert sorted(r.message["Subject"] for r in smtp_server.received) == ["One", "Two"]
    statuses = db.session.scalars(sa.select(MailMessage.status)).all()
    assert statuses == [MailStatus.SENT, MailStatus.SENT]


def test_a_rolled_back_message_is_neither_kept_nor_sent(
        app: Flask, smtp_server: SmtpServer) -> None:  # noqa: F811
    with pytest.raises(RuntimeError), boundary():
        _queue("Never")
        raise RuntimeError("the request failed after queueing the e-mail")

    assert smtp_server.received == []
    assert db.session.scalar(sa.select(sa.func.count(MailMessage.id))) == 0


def test_the_nightly_housekeeping_applies_retention_and_survives_a_failing_part(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    old, recent = now_utc() - timedelta(days=45), now_utc() - timedelta(days=1)
    with boundary():
        db.session.add_all([LoginFailure(key_hash="a" * 64, at=old),
                            LoginFailure(key_hash="b" * 64, at=recent)])

    def broken() -> str:
        raise RuntimeError("the survey part failed")

    parts = [("surveys", broken)] + [p for p in nightly_tasks.PARTS if p[0] != "surveys"]
    monkeypatch.setattr(nightly_tasks, "PARTS", parts)
    nightly_tasks.housekeeping_task()

    kept = db.session.scalars(sa.select(LoginFailure.key_hash)).all()
    assert kept == ["b" * 64]  # 30 days for failed sign-ins: the 45-day-old one went
