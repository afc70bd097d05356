"""The outbox against a real SMTP server: what arrives, retries after a 421 with exactly one
delivery, permanent refusals, a rolled-back change that sends nothing, ``sel-time mail send``."""
from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner

from sel_time.core.clock import now_utc
from sel_time.core.errors import ValidationError
from sel_time.core.extensions import db
from sel_time.core.transaction import boundary
from sel_time.mail import MailMessage, MailStatus, deliver_pending, queue_message
from tests.support.smtp import SmtpServer

UID = "session-42@sel-time.example.nhs.uk"


def invitation(method: str = "REQUEST", sequence: int = 0) -> str:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//sel-time//tests//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", UID)
    event.add("sequence", sequence)
    event.add("dtstamp", now_utc())
    event.add("dtstart", now_utc() + timedelta(days=3))
    event.add("dtend", now_utc() + timedelta(days=3, hours=4))
    event.add("summary", "Protected time: Clinical Director")
    event.add("organizer", "mailto:rota@sel-time.example.nhs.uk")
    event.add("attendee", "mailto:ada@nhs.net")
    cal.add_component(event)
    return cal.to_ical().decode()


def queue(**kw: object) -> MailMessage:
    data: dict[str, object] = {"recipient": "ada@nhs.net", "subject": "Your protected time",
                               "text": "Thursday afternoon is yours.", "kind": "invitation"}
    data.update(kw)
    with boundary():
        row = queue_message(**data)  # type: ignore[arg-type]
    return row


def test_an_invitation_arrives_with_text_html_and_a_calendar_request(
        app: Flask, smtp_server: SmtpServer) -> None:
    row = queue(html="<p>Thursday afternoon is <strong>yours</strong>.</p>",
                calendar=invitation())
    assert row.calendar_method == "REQUEST"  # read from the part itself

    report = deliver_pending()

    assert (report.sent, report.deferred, report.failed, report.waiting) == (1, 0, 0, 0)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ada@nhs.net"]
    assert got.mail_from == "rota@sel-time.example.nhs.uk"
    msg = got.message
    assert msg["To"] == "ada@nhs.net"
    assert msg["Subject"] == "Your protected time"
    assert msg["From"].addresses[0].addr_spec == "rota@sel-time.example.nhs.uk"
    assert msg["Message-ID"] == row.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    assert parts[0].get_content().strip() == "Thursday afternoon is yours."
    assert "<strong>yours</strong>" in parts[1].get_content()
    calendar_part = parts[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    parsed = icalendar.Calendar.from_ical(calendar_part.get_content())
    assert parsed["METHOD"] == "REQUEST"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == UID and int(event["SEQUENCE"]) == 0

    stored = db.session.get(MailMessage, row.id)
    assert stored is not None
    assert stored.status == MailStatus.SENT and stored.sent_at is not None
    assert stored.attempts == 1 and stored.last_error is None


def test_a_plain_message_is_a_single_text_part(app: Flask, smtp_server: SmtpServer) -> None:
    queue(kind="decision", subject="Your request was approved", text="Approved.")
    deliver_pending()
    [got] = smtp_server.received
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content().strip() == "Approved."


def test_a_cancellation_carries_method_cancel(app: Flask, smtp_server: SmtpServer) -> None:
    queue(calendar=invitation("CANCEL", 1), calendar_method="CANCEL", kind="cancellation")
    deliver_pending()
    [got] = smtp_server.received
    part = list(got.message.iter_parts())[-1]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "CANCEL"
    assert icalendar.Calendar.from_ical(part.get_content())["METHOD"] == "CANCEL"


def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(
        app: Flask, smtp_server: SmtpServer) -> None:
    with pytest.raises(RuntimeError):
        with boundary():
            queue_message(recipient="ada@nhs.net", subject="s", text="t", kind="invitation")
            raise RuntimeError("the change failed")
    report = deliver_pending()
    assert report.sent == 0 and smtp_server.received == []
    assert db.session.scalar(sa.select(sa.func.count(MailMessage.id))) == 0


def test_after_a_421_the_message_is_delivered_exactly_once(
        app: Flask, smtp_server: SmtpServer) -> None:
    smtp_server.handler.fail_data.append("421 4.3.2 Service not available, try again later")
    row = queue(calendar=invitation())
    start = now_utc()

    first = deliver_pending()
    assert (first.sent, first.deferred, first.waiting) == (0, 1, 1)
    stored = db.session.get(MailMessage, row.id)
    assert stored is not None
    assert stored.status == MailStatus.PENDING and stored.attempts == 1
    assert stored.last_error is not None and "421" in stored.last_error
    assert stored.next_try_at >= start + timedelta(seconds=60)
    assert smtp_server.received == []

    # Not due yet: a second run straight away sends nothing.
    assert deliver_pending().sent == 0
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert deliver_pending().sent == 1
        assert deliver_pending().sent == 0
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert deliver_pending().sent == 0

    assert smtp_server.handler.data_commands == 2
    [got] = smtp_server.received
    assert got.message["Message-ID"] == row.message_id
    db.session.expire_all()
    stored = db.session.get(MailMessage, row.id)
    assert stored is not None and stored.status == MailStatus.SENT and stored.attempts == 2


def test_a_permanent_refusal_fails_at_once_with_the_reason(
        app: Flask, smtp_server: SmtpServer) -> None:
    smtp_server.handler.fail_data.append("550 5.1.1 Mailbox does not exist")
    row = queue()
    other = queue(recipient="grace@nhs.net")
    report = deliver_pending()
    assert (report.sent, report.failed) == (1, 1)
    assert "550" in report.errors[0]
    stored = db.session.get(MailMessage, row.id)
    assert stored is not None
    assert stored.status == MailStatus.FAILED and stored.failed_at is not None
    assert stored.last_error is not None and "Mailbox does not exist" in stored.last_error
    assert [r.rcpt_tos for r in smtp_server.received] == [["grace@nhs.net"]]
    assert other.id != row.id


def test_a_message_out_of_attempts_is_marked_failed(
        app: Flask, smtp_server: SmtpServer) -> None:
    smtp_server.handler.fail_data.extend(["451 4.3.0 Local error"] * 20)
    row = queue()
    moment = now_utc()
    for _ in range(10):
        deliver_pending()
        moment += timedelta(hours=2)
        with time_machine.travel(moment, tick=False):
            deliver_pending()
    db.session.expire_all()
    stored = db.session.get(MailMessage, row.id)
    assert stored is not None
    assert stored.status == MailStatus.FAILED and stored.attempts == 10
    assert stored.last_error is not None and stored.last_error.startswith("gave up after 10")


def test_a_relay_that_cannot_be_reached_defers(app: Flask, smtp_server: SmtpServer) -> None:
    row = queue()
    from sel_time.mail.settings import mail_settings
    from tests.support.smtp import free_port

    settings = mail_settings({"SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})
    report = deliver_pending(settings=settings)
    assert report.deferred == 1
    stored = db.session.get(MailMessage, row.id)
    assert stored is not None and stored.status == MailStatus.PENDING
    assert stored.last_error and "Connection" in stored.last_error


def test_a_message_another_sender_holds_is_left_alone(
        app: Flask, smtp_server: SmtpServer) -> None:
    row = queue()
    with boundary():
        held = db.session.get(MailMessage, row.id)
        assert held is not None
        held.claimed_until = now_utc() + timedelta(minutes=5)
    assert deliver_pending().sent == 0
    with time_machine.travel(now_utc() + timedelta(minutes=6), tick=False):
        assert deliver_pending().sent == 1  # the other sender died: the claim ran out
    assert len(smtp_server.received) == 1


def test_dedupe_key_queues_once(app: Flask, smtp_server: SmtpServer) -> None:
    first = queue(dedupe_key="digest:ada@nhs.net:2026-12-07")
    second = queue(dedupe_key="digest:ada@nhs.net:2026-12-07")
    assert first.id == second.id
    deliver_pending()
    assert len(smtp_server.received) == 1


@pytest.mark.parametrize(("field", "kw"), [
    ("recipient", {"recipient": "not an address"}),
    ("subject", {"subject": "two\nlines"}),
    ("text", {"text": "  "}),
    ("calendar_method", {"calendar": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}),
    ("calendar_method", {"calendar": "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
                         "calendar_method": "CANCEL"}),
    ("calendar_method", {"calendar_method": "REQUEST"}),
])
def test_a_bad_message_is_refused_naming_the_field(
        app: Flask, field: str, kw: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        queue(**kw)
    assert [e.field for e in caught.value.errors] == [field]


def test_the_cli_sends_the_outbox(app: Flask, runner: FlaskCliRunner,
                                  smtp_server: SmtpServer) -> None:
    queue()
    queue(recipient="grace@nhs.net")
    result = runner.invoke(args=["sel-time", "mail", "send"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 to retry, 0 failed; 0 waiting" in result.output
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["ada@nhs.net",
                                                                     "grace@nhs.net"]
