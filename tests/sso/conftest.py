"""A real OpenID Connect provider (Node's oidc-provider, tests/sso/provider) and a live sel-time
configured to sign in through it, both on loopback, and headless Chromium to drive them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config import TestingConfig

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID = "sel-time"
CLIENT_SECRET = "test-client-secret-" + "x" * 24
ALLOWED_DOMAINS = "nhs.net,slam.nhs.uk"
HELP = "the SEL leadership programme team (sel-leadership@nhs.net)"

# The provider's accounts: the login typed on its sign-in page names the account.
ACCOUNTS = {
    "leader": {"email": "Leader.One@nhs.net", "email_verified": True, "name": "Leader One",
               "groups": ["sel-time-leaders"]},
    "outsider": {"email": "someone@gmail.com", "email_verified": True, "name": "Some One"},
    "unverified": {"email": "unverified@nhs.net", "email_verified": False, "name": "Un Verified"},
    "stranger": {"email": "stranger@nhs.net", "email_verified": True, "name": "A Stranger"},
}


CHROMIUM = os.environ.get("SEL_TIME_CHROMIUM", "/usr/bin/chromium")


def need_browser() -> None:
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: make test installs it")
        pytest.skip(f"Chromium not found at {CHROMIUM}; run make test to install it")


def need_node_provider() -> str:
    """The node binary, with the provider's packages installed (``make test`` installs them)."""
    node = shutil.which("node")
    installed = (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir()
    if node and installed:
        return node
    why = ("node is not installed" if not node else
           "the test provider's packages are not installed: make sso (npm ci --prefix "
           "tests/sso/provider)")
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


class Provider:
    """One oidc-provider process on 127.0.0.1."""

    def __init__(self, redirect_base: str) -> None:
        node = need_node_provider()
        settings = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [redirect_base + "/login/sso/callback"],
            "post_logout_redirect_uris": [redirect_base + "/login/sso/signed-out"],
            "accounts": ACCOUNTS,
        }
        self.process = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs")],
            cwd=PROVIDER_DIR,
            env={**os.environ, "SSO_PROVIDER_CONFIG": json.dumps(settings)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # {"issuer": ...} once it listens
        if not line:
            self.process.wait(timeout=10)
            pytest.fail(f"the test provider did not start (exit {self.process.returncode})")
        self.issuer: str = json.loads(line)["issuer"]

    def misbehave(self, id_token: str | None) -> None:
        """Make the token endpoint hand out ID tokens changed this way (or behave again)."""
        request = urllib.request.Request(
            self.issuer + "/__misbehave", data=json.dumps({"id_token": id_token}).encode(),
            method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            assert json.load(answer) == {"id_token": id_token}

    def stop(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(settings: Callable[[str], dict[str, Any]], tmp: Path,
          setup: Callable[[], None]) -> Iterator[dict[str, Any]]:
    """sel-time on a free loopback port: the port is known before the app is made, so that
    the provider can register its redirect URI first and the app can then name its issuer."""
    from werkzeug.serving import make_server

    from sel_time import create_app
    from sel_time.core.extensions import db

    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        app = create_app(TestingConfig, PUBLIC_URL=url, **settings(url),
                         SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'sso.sqlite'}")
        with app.app_context():
            db.create_all()
            setup()
            db.session.commit()
        holder["app"] = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield {"url": url, "app": app}
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
    finally:
        server.server_close()


def add_people() -> None:
    """sel-time's own users: a leader (with a person), an administrator, and the unverified
    account's user (so that its refusal is about verification, not an unknown address)."""
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.extensions import db
    from sel_time.directory import records
    from sel_time.models import User, UserRole

    org = records.create(records.ENTITIES["organisations"], {
        "code": "kch", "name": "King's College Hospital", "kind": "acute_trust",
        "borough": "Southwark"}, CLI_ACTOR)
    person = records.create(records.ENTITIES["people"], {
        "email": "leader.one@nhs.net", "name": "Leader One", "profession": "nurse", "band": "8a",
        "organisation_id": org.id}, CLI_ACTOR)
    db.session.add_all([
        User(email="leader.one@nhs.net", name="Leader One", role=UserRole.LEADER,
             person_id=person.id),
        User(email="unverified@nhs.net", name="Un Verified", role=UserRole.LEADER),
    ])


@pytest.fixture(scope="module")
def sso(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """``{"url", "app", "provider"}``: sel-time signing in through a real provider."""
    need_browser()
    need_node_provider()
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("browser journeys run on the SQLite run only")
    found: dict[str, Provider] = {}

    def settings(url: str) -> dict[str, Any]:
        found["provider"] = Provider(url)
        return {"SSO_ISSUER": found["provider"].issuer, "SSO_CLIENT_ID": CLIENT_ID,
                "SSO_CLIENT_SECRET": CLIENT_SECRET, "SSO_ALLOWED_DOMAINS": ALLOWED_DOMAINS,
                "SSO_HELP_CONTACT": HELP}

    try:
        for server in serve(settings, tmp_path_factory.mktemp("sso"), add_people):
            yield {**server, "provider": found["provider"]}
    finally:
        if "provider" in found:
            found["provider"].stop()


@pytest.fixture()
def provider(sso: dict[str, Any]) -> Iterator[Provider]:
    """The provider, well behaved again after each test."""
    yield sso["provider"]
    sso["provider"].misbehave(None)


@pytest.fixture(scope="module")
def browser(sso: dict[str, Any]) -> Iterator[Any]:
    """Headless Chromium (Debian's) that reaches nothing but loopback."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: no cookies of sel-time's or the provider's."""
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(20000)
    yield pg
    context.close()
