"""Rota managers hear of waiting requests in batches (one e-mail each per run, each request
once), unless they turned it off; a leader hears of a rota manager's decision, in text and
HTML, unless they turned it off; a rolled-back request tells nobody."""
from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient, FlaskCliRunner

from sel_time.mail import deliver_pending
from tests.support.smtp import SmtpServer

from .conftest import Published

Headers = Callable[[int], dict[str, str]]


def ask_costly_move(client: FlaskClient, headers: dict[str, str], att_id: int) -> int:
    options = client.get(f"/api/v1/attendances/{att_id}/alternatives",
                         headers=headers).get_json()["alternatives"]
    target = next(o for o in options if o["allowed"])
    r = client.post("/api/v1/requests", json={"kind": "move", "attendance_id": att_id,
                                              "to_slot": target["slot"]}, headers=headers)
    assert r.get_json()["status"] == "pending"
    return int(r.get_json()["id"])


def test_rota_managers_are_told_in_batches(
        published: Published, client: FlaskClient, leader: Headers, rota: dict[str, str],
        login_as: Callable[..., dict[str, str]], runner: FlaskCliRunner,
        smtp_server: SmtpServer) -> None:
    ada = published.small.ada
    first, second = published.sessions_of(ada)
    quiet = login_as("rota_manager")
    assert client.put("/api/v1/me/mail-preferences", json={"requests_waiting": False},
                      headers=quiet).status_code == 200
    ask_costly_move(client, leader(ada), first.id)
    ask_costly_move(client, leader(ada), second.id)

    result = runner.invoke(args=["sel-time", "requests", "announce"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 message(s)" in result.output  # the one who did not turn it off
    again = runner.invoke(args=["sel-time", "requests", "announce"])
    assert "Queued 0 message(s)" in again.output  # each request is announced once
    deliver_pending()
    [got] = smtp_server.received
    assert got.message["Subject"] == "2 protected time request(s) wait for you"
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    assert text.count("Ada Okafor: move your session") == 2
    assert "/manage/requests" in text and "<p>" in html


def test_a_leader_who_turned_decisions_off_is_not_told(
        published: Published, client: FlaskClient, leader: Headers, rota: dict[str, str],
        smtp_server: SmtpServer) -> None:
    ada = published.small.ada
    headers = leader(ada)
    client.put("/api/v1/me/mail-preferences", json={"decisions": False}, headers=headers)
    request_id = ask_costly_move(client, headers, published.sessions_of(ada)[0].id)
    r = client.post(f"/api/v1/requests/{request_id}/decision",
                    json={"approve": False, "reason": "No cover that day"}, headers=rota)
    assert r.status_code == 200
    deliver_pending()
    assert smtp_server.received == []


def test_a_decision_reaches_the_leader(
        published: Published, client: FlaskClient, leader: Headers, rota: dict[str, str],
        smtp_server: SmtpServer) -> None:
    ada = published.small.ada
    request_id = ask_costly_move(client, leader(ada), published.sessions_of(ada)[0].id)
    client.post(f"/api/v1/requests/{request_id}/decision",
                json={"approve": False, "reason": "No cover that day"}, headers=rota)
    deliver_pending()
    [got] = smtp_server.received
    assert got.message["Subject"] == "Your protected time request was declined"
    assert "Reason: No cover that day" in got.message.get_body(("plain",)).get_content()


def test_a_daily_digest_gathers_notices_into_one_email(
        published: Published, client: FlaskClient, leader: Headers, rota: dict[str, str],
        runner: FlaskCliRunner, smtp_server: SmtpServer) -> None:
    ada = published.small.ada
    headers = leader(ada)
    r = client.put("/api/v1/me/mail-preferences", json={"daily_digest": True}, headers=headers)
    assert r.get_json()["daily_digest"] is True
    first, second = published.sessions_of(ada)
    for att in (first, second):
        request_id = ask_costly_move(client, headers, att.id)
        client.post(f"/api/v1/requests/{request_id}/decision",
                    json={"approve": False, "reason": "No cover that day"}, headers=rota)
    deliver_pending()
    assert smtp_server.received == []  # kept for the digest
    result = runner.invoke(args=["sel-time", "requests", "digest"])
    assert "Queued 1 digest(s)" in result.output, result.output
    assert "Queued 0 digest(s)" in runner.invoke(args=["sel-time", "requests", "digest"]).output
    deliver_pending()
    [got] = smtp_server.received
    assert got.message["Subject"].startswith("Your sel-time digest for")
    text = got.message.get_body(("plain",)).get_content()
    assert text.count("Your protected time request was declined") == 2
