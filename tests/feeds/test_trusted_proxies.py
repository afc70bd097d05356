"""Client addresses behind reverse proxies (``SEL_TIME_TRUSTED_PROXIES``), and the storage the
feed-miss throttle counts in (``SEL_TIME_RATELIMIT_STORAGE``)."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from werkzeug.security import generate_password_hash

from config import TestingConfig
from sel_time import create_app
from sel_time.core.extensions import db
from sel_time.models import User, UserRole

PASSWORD = "proxy-test-password"
PROXY = "127.0.0.1"  # the reverse proxy on the same machine, as gunicorn.conf.py's bind implies
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture()
def users(app: Flask) -> dict[str, str]:
    out = {}
    for role in (UserRole.ADMIN, UserRole.FINANCE):
        user = User(email=f"{role.value}@proxy.test", name=role.value, role=role,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
        db.session.add(user)
        out[role.value] = user.email
    db.session.commit()
    return out


def _another_app(app: Flask, **overrides: Any) -> Iterator[Flask]:
    """A second app on the test's database, as a differently configured process would be."""
    other = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       WTF_CSRF_ENABLED=False, **overrides)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def proxied(app: Flask) -> Iterator[Flask]:
    yield from _another_app(app, TRUSTED_PROXIES="1")


def _sign_in(app: Flask, email: str, password: str, forwarded_for: str) -> int:
    r = app.test_client().post("/login", data={"email": email, "password": password},
                               environ_base={"REMOTE_ADDR": PROXY},
                               headers={"X-Forwarded-For": forwarded_for})
    return r.status_code


def test_behind_a_trusted_proxy_clients_are_counted_apart(proxied: Flask,
                                                          users: dict[str, str]) -> None:
    """With SEL_TIME_TRUSTED_PROXIES=1, the address each client's X-Forwarded-For gives is the
    one counted: a guesser's failures for admin do not refuse admin at another client."""
    for _ in range(5):
        assert _sign_in(proxied, users["admin"], "wrong", "203.0.113.1") == 400
    assert _sign_in(proxied, users["admin"], PASSWORD, "203.0.113.1") == 429
    assert _sign_in(proxied, users["admin"], PASSWORD, "203.0.113.2") == 302
    # feed misses too: one client's misses leave another's unknown tokens a plain 404
    c = proxied.test_client()
    for _ in range(30):
        c.get(f"/feeds/{secrets.token_urlsafe(32)}.ics", environ_base={"REMOTE_ADDR": PROXY},
              headers={"X-Forwarded-For": "203.0.113.1"})
    codes = [c.get(f"/feeds/{secrets.token_urlsafe(32)}.ics", environ_base={"REMOTE_ADDR": PROXY},
                   headers={"X-Forwarded-For": xff}).status_code
             for xff in ("203.0.113.1", "203.0.113.2")]
    assert codes == [429, 404]
    # the scheme the proxy reports is believed too (Secure cookies, HSTS)
    r = c.get("/login", environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-Proto": "https"})
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_trusted_proxies_forwarded_for_is_ignored(app: Flask,
                                                          users: dict[str, str]) -> None:
    """The default (0): a client cannot choose the address it is counted as by sending
    X-Forwarded-For, so inventing addresses does not reset its count."""
    app.config["WTF_CSRF_ENABLED"] = False
    for n in range(5):
        assert _sign_in(app, users["admin"], "wrong", f"10.0.0.{n}") == 400
    assert _sign_in(app, users["admin"], PASSWORD, "10.0.0.99") == 429
    r = app.test_client().get("/login", environ_base={"REMOTE_ADDR": PROXY},
                              headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers


@pytest.mark.parametrize("value", ["two", "-1", "1.5", "11", "", "²"])
def test_a_bad_number_of_proxies_stops_the_start_in_words(value: str) -> None:
    with pytest.raises(RuntimeError, match="SEL_TIME_TRUSTED_PROXIES must be a whole number"):
        create_app(TestingConfig, TRUSTED_PROXIES=value)


def test_an_unknown_throttle_storage_stops_the_start_in_words() -> None:
    with pytest.raises(RuntimeError, match="SEL_TIME_RATELIMIT_STORAGE must be a storage"):
        create_app(TestingConfig, RATELIMIT_STORAGE_URI="nosuch://here")


@pytest.mark.slow
def test_feed_misses_are_shared_between_processes_in_redis(app: Flask) -> None:
    """Production storage: two apps (two gunicorn workers) on one Redis count misses together,
    so N workers allow the limit once, not N times."""
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("CI"):  # .ci/run starts Redis: here a missing one is a failure
            pytest.fail("no Redis on 127.0.0.1:6379 in CI")
        pytest.skip("no Redis on 127.0.0.1:6379 (the production throttle storage)")
    prefix = f"sel-time-test-{secrets.token_hex(8)}"  # apart from any other run on this Redis
    first = _another_app(app, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    second = _another_app(app, RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    workers = [next(first), next(second)]
    try:
        codes = [workers[n % 2].test_client()
                 .get(f"/feeds/{secrets.token_urlsafe(32)}.ics",
                      environ_base={"REMOTE_ADDR": "192.0.2.60"}).status_code
                 for n in range(31)]
        assert codes == [404] * 30 + [429]
    finally:
        from sel_time.feeds.misses import limiter_for

        limiter_for(workers[0]).clear("192.0.2.60")
        for gen in (first, second):
            next(gen, None)


def test_an_unreachable_throttle_storage_fails_open(app: Flask,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Redis down: feed misses are answered 404 (and logged), never a 500 for every feed."""
    gen = _another_app(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    broken = next(gen)
    try:
        c = broken.test_client()
        codes = {c.get(f"/feeds/{secrets.token_urlsafe(32)}.ics").status_code for _ in range(31)}
        assert codes == {404}
        assert "Feed miss throttle storage unavailable" in caplog.text
    finally:
        next(gen, None)
