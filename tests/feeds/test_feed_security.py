"""Feed tokens under attack: guessing gets only 404s and is rate limited per client address;
tokens never reach a log line; security headers on pages, API and feeds; secrets only from the
environment in production."""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import time_machine
from support.published import published_app_config, published_system  # noqa: F401  (fixtures)
from werkzeug.serving import make_server

from sel_time.feeds import service

LIMIT = 30


def _feed(client: Any, token: str, addr: str = "198.51.100.7") -> Any:
    return client.get(f"/feeds/{token}.ics", environ_base={"REMOTE_ADDR": addr})


def test_brute_force_gets_only_404_then_429(client: Any, system: Any) -> None:
    statuses = [_feed(client, secrets.token_urlsafe(32)).status_code for _ in range(300)]
    assert set(statuses[:LIMIT]) == {404}
    assert set(statuses[LIMIT:]) == {429}
    blocked = [_feed(client, secrets.token_urlsafe(32)) for _ in range(3)]
    assert len({(r.status_code, r.get_data(), r.headers["Retry-After"]) for r in blocked}) == 1
    assert 1 <= int(blocked[0].headers["Retry-After"]) <= 60
    # other addresses are unaffected: unknown tokens from them are 404, not 429
    assert _feed(client, secrets.token_urlsafe(32), "203.0.113.9").status_code == 404


def test_valid_feed_is_served_after_forty_misses_from_its_address(client: Any, system: Any) -> None:
    """Finding 3: misses from an address (a guesser, or anyone behind the same proxy) never
    refuse a valid feed from it; only further misses are refused."""
    addr = "198.51.100.40"
    assert _feed(client, system.feed_secrets["ada"], addr).status_code == 200  # cached: fast path
    statuses = [_feed(client, secrets.token_urlsafe(32), addr).status_code for _ in range(40)]
    assert statuses == [404] * LIMIT + [429] * (40 - LIMIT)
    for _ in range(2):  # ada's from the fast path's cache; ben's rendered by the view, then cached
        assert _feed(client, system.feed_secrets["ada"], addr).status_code == 200
        assert _feed(client, system.feed_secrets["ben"], addr).status_code == 200
    head = client.head(
        f"/feeds/{system.feed_secrets['ada']}.ics", environ_base={"REMOTE_ADDR": addr}
    )
    assert head.status_code == 200
    miss = _feed(client, secrets.token_urlsafe(32), addr)  # the 41st miss
    assert miss.status_code == 429 and int(miss.headers["Retry-After"]) >= 1


def test_spoofed_forwarded_for_does_not_change_the_counted_address(
    client: Any, system: Any
) -> None:
    """Without trusted proxies (the default), X-Forwarded-For is ignored: a guesser cannot
    dodge the limit by inventing addresses, nor spend another client's allowance."""
    for n in range(LIMIT):
        r = client.get(
            f"/feeds/{secrets.token_urlsafe(32)}.ics",
            environ_base={"REMOTE_ADDR": "192.0.2.77"},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
        )
        assert r.status_code == 404
    r = client.get(
        f"/feeds/{secrets.token_urlsafe(32)}.ics",
        environ_base={"REMOTE_ADDR": "192.0.2.77"},
        headers={"X-Forwarded-For": "10.0.1.1"},
    )
    assert r.status_code == 429
    assert _feed(client, secrets.token_urlsafe(32), "10.0.0.1").status_code == 404


def test_unknown_revoked_and_malformed_tokens_look_alike(client: Any, system: Any) -> None:
    """Every way of not being a feed answers the same bytes (nothing to tell them apart)."""
    client.delete(f"/api/v1/feeds/{system.feed_ids['ben']}", headers=system.headers["leader_other"])
    bodies = {
        (r.status_code, r.get_data(), r.headers.get("Cache-Control"))
        for r in (
            _feed(client, t, "192.0.2.1")
            for t in [
                secrets.token_urlsafe(32),
                system.feed_secrets["ben"],
                "x",
                "a" * 300,
                "%00",
                system.feed_secrets["ada"][:-1],
            ]
        )
    }
    assert len(bodies) == 1 and next(iter(bodies))[0] == 404


def test_limiter_window_expires(app: Any, client: Any, system: Any) -> None:
    with time_machine.travel(time.time(), tick=False) as traveller:
        for _ in range(LIMIT):
            _feed(client, secrets.token_urlsafe(32), "192.0.2.50")
        assert _feed(client, secrets.token_urlsafe(32), "192.0.2.50").status_code == 429
        traveller.shift(61)
        assert _feed(client, secrets.token_urlsafe(32), "192.0.2.50").status_code == 404


def _serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def test_tokens_never_reach_the_logs(app: Any, system: Any, caplog: Any, monkeypatch: Any) -> None:
    """A run of real HTTP requests (werkzeug's server, so its access log line too) at DEBUG:
    good, unknown and failing feeds, and the one-click record page."""
    from sel_time.core.extensions import db
    from sel_time.delivery import recording
    from sel_time.models import Attendance

    record_token = recording.delivery_link_token(db.session.get(Attendance, system.ada_attendance))
    unknown = secrets.token_urlsafe(32)
    db.session.commit()  # release SQLite to the server's threads
    caplog.set_level(logging.DEBUG)
    server, base = _serve(app)
    try:
        for path in (
            f"/feeds/{system.feed_secrets['ada']}.ics",
            f"/feeds/{unknown}.ics",
            f"/feeds/{unknown}.ics?x=1",
            f"/record/{record_token}",
        ):
            try:
                urllib.request.urlopen(base + path, timeout=10).read()
            except urllib.error.HTTPError:
                pass

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("rendering failed")

        monkeypatch.setattr(service, "get_feed", boom)  # the error handler's log line
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/feeds/{system.feed_secrets['ben']}.ics", timeout=10)
    finally:
        server.shutdown()
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    text += caplog.text
    assert "/feeds/" in text, "no request was logged at all"
    for secret in (system.feed_secrets["ada"], system.feed_secrets["ben"], unknown, record_token):
        assert secret not in text, f"a token reached the log:\n{text[-2000:]}"


SECURITY = ("X-Content-Type-Options", "Content-Security-Policy")


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/api/v1/people",
        "/api/v1/openapi.json",
        "/health",
        "/feeds/{ada}.ics",
        "/feeds/unknown.ics",
        "/api/v1/nothing-here",
    ],
)
def test_security_headers(client: Any, system: Any, path: str) -> None:
    url = path.format(ada=system.feed_secrets["ada"])
    r = client.get(url, headers=system.headers["admin"], environ_base={"REMOTE_ADDR": "192.0.2.99"})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], r.headers
    assert "Strict-Transport-Security" not in r.headers  # plain http: no HSTS
    r = client.get(
        url,
        headers=system.headers["admin"],
        base_url="https://sel-time.example",
        environ_base={"REMOTE_ADDR": "192.0.2.99"},
    )
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


@pytest.mark.slow
def test_production_needs_secret_key_from_environment(tmp_path: Path) -> None:
    code = (
        "from sel_time import create_app\n"
        "try:\n    create_app()\nexcept RuntimeError as e:\n    print('REFUSED', e)\n"
        "else:\n    print('STARTED')\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "SEL_TIME_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
    }
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env, timeout=60
    )
    assert "REFUSED" in out.stdout and "SECRET_KEY" in out.stdout, out.stdout + out.stderr
    env["SECRET_KEY"] = secrets.token_hex(32)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env, timeout=60
    )
    assert "STARTED" in out.stdout, out.stdout + out.stderr


def test_no_secret_in_the_repository_config() -> None:
    """The production config has no default secret to fall back on."""
    import config

    assert (
        config.Config.__dict__["SECRET_KEY"] in ("", None)
        or "SECRET_KEY" in __import__("os").environ
    )
