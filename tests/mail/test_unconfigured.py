"""With no relay configured messages stay queued and the operator is told; with a mail
directory (the demo's instance/outbox) each message is written as an .eml file."""
from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from sel_time.core.extensions import db
from sel_time.core.transaction import boundary
from sel_time.mail import MailMessage, MailStatus, deliver_pending, queue_message
from sel_time.mail.settings import MailConfigurationError, mail_settings, parse_smtp_url


@pytest.fixture()
def app_config() -> dict[str, Any]:
    return {}


def _queue() -> None:
    with boundary():
        queue_message(recipient="ada@nhs.net", subject="Moved", text="Your session moved.",
                      kind="change")


def test_unconfigured_mail_stays_queued_and_says_so(
        app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture) -> None:
    _queue()
    report = deliver_pending()
    assert not report.configured and report.waiting == 1 and report.sent == 0
    assert "stay queued" in caplog.text
    result = runner.invoke(args=["sel-time", "mail", "send"])
    assert result.exit_code == 1
    assert "Mail is not configured (set SEL_TIME_SMTP_URL or SEL_TIME_SMTP_HOST): " \
           "1 message(s) stay queued." in result.output
    row = db.session.scalar(sa.select(MailMessage))
    assert row is not None and row.status == MailStatus.PENDING and row.attempts == 0


def test_a_mail_directory_gets_eml_files(app: Flask, tmp_path: Path) -> None:
    _queue()
    settings = mail_settings({"MAIL_DIR": "outbox"}, str(tmp_path))
    report = deliver_pending(settings=settings)
    assert report.sent == 1
    [path] = (tmp_path / "outbox").glob("*.eml")
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "ada@nhs.net" and msg["Subject"] == "Moved"


def test_smtp_url_is_read() -> None:
    s = parse_smtp_url("smtp://user%40trust:p%3Ass@relay.nhs.net:587?starttls=1")
    assert (s.host, s.port, s.username, s.password, s.starttls, s.ssl) == (
        "relay.nhs.net", 587, "user@trust", "p:ss", True, False)
    assert "p:ss" not in s.describe()
    assert parse_smtp_url("smtps://relay.nhs.net").port == 465


@pytest.mark.parametrize("url", ["http://relay", "smtp://relay?tls=1", "smtp://relay:99999",
                                 "smtp://relay?starttls=maybe"])
def test_a_bad_smtp_url_is_refused_in_words(url: str) -> None:
    with pytest.raises(MailConfigurationError) as caught:
        parse_smtp_url(url)
    assert "SEL_TIME_SMTP_URL" in str(caught.value)
