"""In Chromium: a leader asks to move a session from My time, sees the ranked alternatives and
picks one; their organisation's rule sends every request to a rota manager, who approves it;
the leader's feed and the finance summary show the change."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.web.conftest import shot, sign_in

pytestmark = pytest.mark.slow  # a browser journey


def _get_json(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as response:  # noqa: S310 (loopback)
        return json.load(response)


def test_leader_moves_a_session_and_a_rota_manager_approves(
        live_server: dict[str, Any], browser: Any) -> None:
    from sel_time.core.audit import CLI_ACTOR, Actor
    from sel_time.core.auth import create_api_token
    from sel_time.core.extensions import db
    from sel_time.feeds.tokens import issue_token
    from sel_time.models import FeedKind, PlanStatus, User, UserRole
    from sel_time.plans.planning import request_plan, run_plan
    from sel_time.plans.publishing import publish
    from sel_time.requests.service import set_rule

    app, url = live_server["app"], live_server["url"]
    with app.app_context():
        leader = db.session.scalar(sa.select(User).where(User.role == UserRole.LEADER))
        person = leader.person
        org = person.organisation
        plan = request_plan(live_server["start"], 2, f"organisation:{org.code}", 8.0, CLI_ACTOR)
        db.session.commit()
        plan = run_plan(plan.id)
        assert plan.status == PlanStatus.DRAFT, plan.error
        publish(plan.id, CLI_ACTOR)
        set_rule(org.id, False, 0, CLI_ACTOR)  # every request waits for a rota manager
        _, feed_secret = issue_token(leader, FeedKind.PERSON, person.id, Actor.for_user(leader))
        finance = db.session.scalar(sa.select(User).where(User.role == UserRole.FINANCE))
        _, finance_token = create_api_token(finance, "journey")
        db.session.commit()
        org_name = org.name
    costs_url = f"{url}/api/v1/costs?by=organisation"

    def org_planned() -> float:
        rows = _get_json(costs_url, finance_token)["rows"]
        return float(next(r["planned"] for r in rows if r["organisation"] == org_name))

    before_cost = org_planned()

    leader_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(leader_page, live_server, "leader")
    leader_page.goto(url + "/me")
    leader_page.locator("a:has-text('Change')").first.click()
    leader_page.wait_for_load_state("networkidle")
    assert leader_page.locator("h1").inner_text().startswith("Change your session on")
    rows = leader_page.locator("#to_slot tbody tr")
    assert rows.count() > 0
    verdicts = [rows.nth(i).locator("td").nth(1).inner_text().startswith("Yes")
                for i in range(rows.count())]
    assert verdicts == sorted(verdicts, reverse=True)  # allowed first
    shot(leader_page, "leader-change-session")
    # Pick the allowed time whose backfill differs most from now (the costs must show it).
    buttons = leader_page.locator("button[data-slot]")
    assert buttons.count() > 0
    changes = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(buttons.count())]
    pick = max(range(len(changes)),
               key=lambda i: abs(float(re.sub(r"[^0-9.]", "", changes[i]) or 0)))
    wanted = buttons.nth(pick).get_attribute("data-slot")
    buttons.nth(pick).click()
    leader_page.wait_for_load_state("networkidle")
    assert "a rota manager will decide" in leader_page.content()
    shot(leader_page, "leader-my-requests")

    manager_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(manager_page, live_server, "rota_manager")
    manager_page.goto(url + "/manage/requests")
    assert "Waiting for a decision (1)" in manager_page.content()
    shot(manager_page, "manager-request-queue")
    manager_page.locator("button[value='approve']").first.click()
    manager_page.wait_for_load_state("networkidle")
    assert "approved" in manager_page.content()
    assert "No request is waiting" in manager_page.content()

    with urllib.request.urlopen(f"{url}/feeds/{feed_secret}.ics") as response:  # noqa: S310
        cal = Calendar.from_ical(response.read())
    day, half = wanted.split("/")
    moved = [e for e in cal.walk("VEVENT") if int(e["SEQUENCE"]) == 1
             and e.decoded("DTSTART").date().isoformat() == day]
    assert moved, "the feed does not show the session at its new time"
    assert (moved[0].decoded("DTSTART").hour < 12) == (half == "AM")
    change = float(re.sub(r"[^0-9.]", "", changes[pick]) or 0) * (
        -1 if "−" in changes[pick] else 1)
    assert round(org_planned() - before_cost, 2) == round(change, 2)
