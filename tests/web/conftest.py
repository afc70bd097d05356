"""A live sel-time server on loopback with the demo loaded, and headless Chromium driven by
Playwright (Debian's chromium package; no browser download)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from config import TestingConfig

CHROMIUM = os.environ.get("SEL_TIME_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "browser-test-pass"


def _need_browser() -> None:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium not found at {CHROMIUM}: "
                "make test installs it (apt-get install chromium)"
            )
        pytest.skip(f"Chromium not found at {CHROMIUM}; run make test to install it")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("playwright is not installed: make test installs it from setup.cfg [test]")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """The app served by werkzeug in a thread, on a file SQLite database holding the demo."""
    _need_browser()
    import sqlalchemy as sa
    from werkzeug.security import generate_password_hash
    from werkzeug.serving import make_server

    from sel_time import create_app
    from sel_time.core.extensions import db
    from sel_time.demo import load_demo
    from sel_time.models import User

    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("browser journeys run on the SQLite run only (they share one live database)")
    path = tmp_path_factory.mktemp("live") / "live.sqlite"
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        SOLVER_TIME_LIMIT=8.0,
        PUBLIC_URL="http://127.0.0.1:0",
    )
    today = date.today()
    start = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    with app.app_context():
        db.create_all()
        load_demo(db.session, start=start)
        accounts = {}
        for user in db.session.scalars(sa.select(User)):
            user.password_hash = generate_password_hash(PASSWORD)
            accounts[user.role.value] = user.email
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"url": f"http://127.0.0.1:{port}", "app": app, "accounts": accounts, "start": start}
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20000)
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: dict[str, Any], role: str) -> None:
    page.goto(server["url"] + "/login")
    page.fill("#email", server["accounts"][role])
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("networkidle")
