"""The feed URL as a client meets it: stable bytes and ETag, 304, HEAD, headers; tokens that
are revoked, rotated or no longer allowed all get the same 404; who may create which link;
and tokens never reach a log line."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from sel_time.core.extensions import db
from sel_time.feeds import render, service
from sel_time.feeds.routes import RedactFeedTokens
from sel_time.models import FeedToken, User
from tests.feeds_db.calendars import events
from tests.feeds_db.conftest import Roster, insert_session

Links = Callable[[dict[str, str], str, int], str]
UserOf = Callable[[int], tuple[User, dict[str, str]]]


@pytest.fixture()
def some_sessions(roster: Roster) -> None:
    insert_session("2027-03-26/AM", person_id=roster.ada, assignment_id=roster.ada_assignment)
    insert_session("2027-07-13/PM", person_id=roster.ada, assignment_id=roster.ada_assignment)
    insert_session("2027-07-15/PM", team_id=roster.team, attendees=(roster.ada, roster.ben))
    insert_session("2027-07-16/AM", person_id=roster.ben, assignment_id=roster.ben_assignment)


def without_date(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "Date"}


def unknown_token_response(client: FlaskClient, method: str = "GET") -> Any:
    return client.open(f"/feeds/{secrets.token_urlsafe(32)}.ics", method=method)


def assert_same_as_unknown(client: FlaskClient, path: str) -> None:
    """A refused feed is indistinguishable from one that never existed."""
    for method in ("GET", "HEAD"):
        got, unknown = client.open(path, method=method), unknown_token_response(client, method)
        assert got.status_code == unknown.status_code == 404
        assert got.get_data() == unknown.get_data()
        assert without_date(got.headers) == without_date(unknown.headers)


# -- bytes, ETag, 304, HEAD, headers ------------------------------------------------------------


def test_same_data_gives_same_bytes_and_etag(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    first, second = client.get(path), client.get(path)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    etag = first.headers["ETag"]
    assert etag == second.headers["ETag"] and etag.startswith('"') and not etag.startswith("W/")
    assert etag == render.etag_for(first.get_data())

    # Rendered again from scratch (cache dropped, memo emptied, a day later): the same bytes.
    service.mark_all_stale()
    db.session.commit()
    render._vevent_bytes.cache_clear()
    render._vtimezone_bytes.cache_clear()
    again = client.get(path)
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == etag


def test_headers(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    response = client.get(feed_link(headers, "person", roster.ada))
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"].split(", ")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    assert "Set-Cookie" not in response.headers


def test_if_none_match_gives_304(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    etag = client.get(path).headers["ETag"]
    for sent in (etag, f'"nope", {etag}', f"W/{etag}"):
        response = client.get(path, headers={"If-None-Match": sent})
        assert response.status_code == 304, sent
        assert response.get_data() == b""
        assert response.headers["ETag"] == etag
        assert "private" in response.headers["Cache-Control"]
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200
    # HEAD honours it too.
    assert client.head(path, headers={"If-None-Match": etag}).status_code == 304


def test_head_gives_headers_without_body(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    get, head = client.get(path), client.head(path)
    assert head.status_code == 200
    assert head.get_data() == b""
    assert without_date(head.headers) == without_date(get.headers)
    assert int(head.headers["Content-Length"]) == len(get.get_data())


def test_feed_url_is_read_only(
    roster: Roster, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open(path, method=method).status_code == 405


def test_feed_is_not_a_login(
    roster: Roster, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    secret = feed_link(headers, "person", roster.ada).removeprefix("/feeds/").removesuffix(".ics")
    assert (
        client.get("/api/v1/feeds", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_token_is_stored_only_as_a_hash(
    roster: Roster, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    secret = feed_link(headers, "person", roster.ada).removeprefix("/feeds/").removesuffix(".ics")
    assert len(secret) >= 43  # 32 random bytes, base64url
    row = db.session.scalar(sa.select(FeedToken))
    assert row is not None and row.token_hash == service.hash_token(secret) != secret
    listed = client.get("/api/v1/feeds", headers=headers).get_data(as_text=True)
    assert secret not in listed


# -- revoked, rotated, no longer allowed ---------------------------------------------------------


def test_revoked_token_gets_the_same_404_as_an_unknown_one(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    assert client.get(path).status_code == 200
    [link] = client.get("/api/v1/feeds", headers=headers).get_json()["items"]
    assert client.delete(f"/api/v1/feeds/{link['id']}", headers=headers).status_code == 204
    assert_same_as_unknown(client, path)
    # Malformed tokens look the same as well.
    bad = client.get("/feeds/short.ics")
    assert (bad.status_code, bad.get_data()) == (404, unknown_token_response(client).get_data())


def test_someone_else_cannot_revoke_my_link(
    roster: Roster, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, ada = user_of(roster.ada)
    _, ben = user_of(roster.ben)
    path = feed_link(ada, "person", roster.ada)
    [link] = client.get("/api/v1/feeds", headers=ada).get_json()["items"]
    assert client.delete(f"/api/v1/feeds/{link['id']}", headers=ben).status_code == 404
    assert client.get(path).status_code == 200


def test_rotating_revokes_the_old_url(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    _, headers = user_of(roster.ada)
    old = feed_link(headers, "person", roster.ada)
    new = feed_link(headers, "person", roster.ada)
    assert old != new
    assert client.get(new).status_code == 200
    assert_same_as_unknown(client, old)
    items = client.get("/api/v1/feeds", headers=headers).get_json()["items"]
    assert [i["revoked_at"] is None for i in items] == [True, False]  # newest first
    # A link to another feed is not touched by rotating this one.
    team = feed_link(headers, "team", roster.team)
    feed_link(headers, "person", roster.ada)
    assert client.get(team).status_code == 200


def test_team_feed_refuses_a_removed_member(
    roster: Roster,
    some_sessions: None,
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
    login_as: Callable[..., dict[str, str]],
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "team", roster.team)
    assert client.get(path).status_code == 200
    manager = login_as("rota_manager")
    response = client.patch(
        f"/api/v1/teams/{roster.team}",
        json={"member_ids": [roster.ben, roster.cara]},
        headers=manager,
    )
    assert response.status_code == 200, response.get_json()
    assert_same_as_unknown(client, path)
    # Her own feed still works, and no longer holds the team's sessions she is not attending.
    own = feed_link(headers, "person", roster.ada)
    assert client.get(own).status_code == 200


def test_department_feed_refuses_someone_who_moved_department(
    roster: Roster,
    some_sessions: None,
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
    login_as: Callable[..., dict[str, str]],
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "department", roster.ed)
    assert client.get(path).status_code == 200
    manager = login_as("rota_manager")
    response = client.patch(
        f"/api/v1/people/{roster.ada}", json={"department_id": roster.med}, headers=manager
    )
    assert response.status_code == 200, response.get_json()
    assert_same_as_unknown(client, path)


def test_a_deactivated_users_links_stop_working(
    roster: Roster, some_sessions: None, client: FlaskClient, user_of: UserOf, feed_link: Links
) -> None:
    user, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    user.active = False
    db.session.commit()
    assert_same_as_unknown(client, path)


@pytest.mark.parametrize(
    "kind,target,status",
    [
        ("person", "ben", 403),  # another leader's feed
        ("team", "dan_team", 403),  # a team she is not in
        ("department", "med", 403),  # another department
        ("organisation", "org", 403),  # the whole organisation is for rota managers
        ("person", "nobody", 422),
    ],
)
def test_leaders_may_only_link_their_own_feeds(
    kind: str,
    target: str,
    status: int,
    roster: Roster,
    client: FlaskClient,
    user_of: UserOf,
    make: Callable[..., Any],
) -> None:
    _, headers = user_of(roster.ada)
    ids = {
        "ben": roster.ben,
        "med": roster.med,
        "org": roster.org,
        "nobody": 99999,
        "dan_team": make(
            "teams", code="med-board", name="Medicine board", quorum=1, member_ids=[roster.dan]
        ).id,
    }
    response = client.post(
        "/api/v1/feeds", json={"kind": kind, "target_id": ids[target]}, headers=headers
    )
    assert response.status_code == status, response.get_json()
    assert db.session.scalar(sa.select(sa.func.count(FeedToken.id))) == 0
    # Her own, her team's and her department's are fine.
    for kind, target_id in (
        ("person", roster.ada),
        ("team", roster.team),
        ("department", roster.ed),
    ):
        assert (
            client.post(
                "/api/v1/feeds", json={"kind": kind, "target_id": target_id}, headers=headers
            ).status_code
            == 201
        )


def test_managers_may_link_any_feed(
    roster: Roster, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("rota_manager")
    for kind, target_id in (
        ("person", roster.ben),
        ("team", roster.team),
        ("department", roster.med),
        ("organisation", roster.org),
    ):
        assert (
            client.post(
                "/api/v1/feeds", json={"kind": kind, "target_id": target_id}, headers=headers
            ).status_code
            == 201
        )
    finance = login_as("finance")
    assert (
        client.post(
            "/api/v1/feeds", json={"kind": "organisation", "target_id": roster.org}, headers=finance
        ).status_code
        == 403
    )


# -- tokens never in logs ------------------------------------------------------------------------


@pytest.fixture()
def live_server(app: Flask) -> Iterator[int]:
    """The app behind werkzeug's real development server (which logs every request line)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_tokens_never_reach_the_logs(
    roster: Roster,
    some_sessions: None,
    client: FlaskClient,
    user_of: UserOf,
    feed_link: Links,
    live_server: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, headers = user_of(roster.ada)
    path = feed_link(headers, "person", roster.ada)
    secret = path.removeprefix("/feeds/").removesuffix(".ics")
    record_path = (
        "/record/"
        + str(next(iter(events(client.get(path).get_data()).values()))["URL"]).rsplit(
            "/record/", 1
        )[1]
    )
    record_secret = record_path.removeprefix("/record/")
    revoked = feed_link(headers, "person", roster.ada)  # rotates: `path` is now revoked
    new_secret = revoked.removeprefix("/feeds/").removesuffix(".ics")

    caplog.set_level(logging.INFO)
    for name in ("werkzeug", "sel_time"):
        caplog.set_level(logging.INFO, logger=name)
    conn = HTTPConnection("127.0.0.1", live_server, timeout=10)
    for method, url in (
        ("GET", revoked),
        ("HEAD", revoked),
        ("GET", path),
        ("GET", f"{revoked}?x=1"),
        ("GET", record_path),
        ("POST", revoked),
    ):
        conn.request(method, url)
        conn.getresponse().read()
    conn.close()

    request_lines = [
        r for r in caplog.records if r.name == "werkzeug" and "HTTP/1.1" in r.getMessage()
    ]
    assert len(request_lines) == 6, [r.getMessage() for r in caplog.records]
    assert any("/feeds/[redacted]" in r.getMessage() for r in request_lines)
    assert any("/record/[redacted]" in r.getMessage() for r in request_lines)
    for record in caplog.records:
        message = record.getMessage()
        for token in (secret, new_secret, record_secret):
            assert token not in message
            assert token[:20] not in message


def test_redaction_of_request_lines_in_the_servers_formats() -> None:
    token = secrets.token_urlsafe(32)
    redact = RedactFeedTokens()

    # werkzeug: '%s - - [%s] %s' with the request line among the arguments.
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [%s] "%s" %s %s',
        ("127.0.0.1", "27/Nov/2026 08:00:00", f"GET /feeds/{token}.ics HTTP/1.1", 200, "-"),
        None,
    )
    assert redact.filter(record)
    assert token not in record.getMessage()
    assert '"GET /feeds/[redacted] HTTP/1.1" 200' in record.getMessage()

    # Already formatted into the message, and the one-click link.
    record = logging.LogRecord(
        "sel_time", logging.ERROR, __file__, 1, f"Exception on /record/{token} [POST]", None, None
    )
    assert redact.filter(record)
    assert record.getMessage() == "Exception on /record/[redacted] [POST]"

    # gunicorn's access log: one mapping of atoms (%(r)s, %(U)s, %(q)s ...) as the argument.
    from gunicorn.glogging import SafeAtoms

    atoms = SafeAtoms(
        {
            "h": "127.0.0.1",
            "l": "-",
            "u": "-",
            "t": "[27/Nov/2026:08:00:00 +0000]",
            "r": f"GET /feeds/{token}.ics?x=1 HTTP/1.1",
            "s": "200",
            "b": "1234",
            "f": f"https://cal.example/record/{token}",
            "a": "Outlook",
            "U": f"/feeds/{token}.ics",
            "q": "x=1",
        }
    )
    fmt = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(U)s'
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, fmt, (atoms,), None)
    assert redact.filter(record)
    message = record.getMessage()  # still formats
    assert token not in message
    assert message.startswith('127.0.0.1 - - [27/Nov/2026:08:00:00 +0000] "GET /feeds/[redacted]')
