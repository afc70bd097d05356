"""The main journeys with a keyboard only (Tab, Shift+Tab, arrows, typing, Enter, Space): no
click, no fill. Each step moves the focus by Tab until it reaches the control a user would
reach, so a control that Tab cannot reach fails the journey.

(Cancelling a running plan belongs to the task queue's cancel; its journey joins this file
with it.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.pages_data import add_past_session

from .conftest import PASSWORD, shot
from .test_accessibility import violations

pytestmark = pytest.mark.slow  # keyboard-only journeys in Chromium


@pytest.fixture()
def kpage(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  bypass_csp=True)  # axe is injected into some states
    pg = context.new_page()
    pg.set_default_timeout(20000)
    yield pg
    context.close()


def focused(page: Any, selector: str) -> bool:
    return bool(page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector))


def tab_to(page: Any, selector: str, limit: int = 150, back: bool = False) -> None:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def type_date(page: Any, selector: str, day: Any) -> None:
    tab_to(page, selector)  # a date field in en-GB: day, month, year
    page.keyboard.type(f"{day:%d%m%Y}")


def enter(page: Any) -> None:
    """Enter on the focused control, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_in_by_keyboard(page: Any, server: dict[str, Any], role: str) -> None:
    page.goto(server["url"] + "/login")
    type_into(page, "#email", server["accounts"][role])
    type_into(page, "#password", PASSWORD)
    enter(page)


def test_sign_in_and_record_a_session_with_a_reason(live_server: dict[str, Any],
                                                    kpage: Any) -> None:
    att_id = add_past_session(live_server)
    kpage.goto(live_server["url"] + "/login")  # a wrong password first: the error summary
    type_into(kpage, "#email", live_server["accounts"]["leader"])
    type_into(kpage, "#password", "not the password")
    enter(kpage)
    assert focused(kpage, ".nhsuk-error-summary")
    assert not violations(kpage, "failed sign-in", 1280)
    sign_in_by_keyboard(kpage, live_server, "leader")
    assert kpage.url.endswith("/me")
    kpage.goto(live_server["url"] + "/me")
    tab_to(kpage, f"#outcome-{att_id}-taken")  # the first choice; arrows choose within
    while not focused(kpage, f"#outcome-{att_id}-lost_clinical_pressure"):
        kpage.keyboard.press("ArrowDown")
    assert kpage.locator(f"#outcome-{att_id}-lost_clinical_pressure").is_checked()
    type_into(kpage, f"#note-{att_id}", "Ward short of two nurses")
    tab_to(kpage, f"form[action$='/me/attendances/{att_id}'] button")
    enter(kpage)
    assert focused(kpage, ".nhsuk-notification-banner--success")
    assert "lost to clinical pressure" in kpage.locator(
        ".nhsuk-notification-banner--success").inner_text()
    shot(kpage, "keyboard-leader-recorded")
    assert not violations(kpage, "recorded banner", 1280)
    with live_server["app"].app_context():
        from sel_time.core.extensions import db
        from sel_time.models import Attendance

        att = db.session.get(Attendance, att_id)
        assert att is not None and att.outcome is not None
        assert att.outcome.value == "lost_clinical_pressure"
        assert att.note == "Ward short of two nurses"
        db.session.remove()


def test_book_and_cancel_leave(live_server: dict[str, Any], kpage: Any) -> None:
    sign_in_by_keyboard(kpage, live_server, "leader")
    first = live_server["start"] + timedelta(weeks=20, days=2)  # a Wednesday, clear of demo leave
    kpage.goto(live_server["url"] + "/me")
    type_date(kpage, "#start_date", first)
    type_date(kpage, "#end_date", first + timedelta(days=1))
    tab_to(kpage, "form[action$='/me/leave'] button[type=submit]")
    enter(kpage)
    assert "Leave booked" in kpage.content()
    assert not violations(kpage, "leave booked banner", 1280)
    with live_server["app"].app_context():
        from sel_time.core.extensions import db
        from sel_time.models import Absence

        absence_id = db.session.scalar(sa.select(Absence.id).where(Absence.start_date == first))
        db.session.remove()
    cancel = f"form[action$='/me/leave/{absence_id}/cancel'] button"
    assert kpage.locator(cancel).count() == 1
    tab_to(kpage, cancel)
    enter(kpage)
    assert "Leave cancelled: annual leave from" in kpage.content()
    assert kpage.locator(cancel).count() == 0


def test_generate_and_publish_a_plan(live_server: dict[str, Any], kpage: Any) -> None:
    sign_in_by_keyboard(kpage, live_server, "rota_manager")
    kpage.goto(live_server["url"] + "/manage/plans")
    assert kpage.locator("#start").input_value()  # next Monday already
    type_into(kpage, "#weeks", "1")
    type_into(kpage, "#time_limit", "5")
    tab_to(kpage, "#generate-plan")
    enter(kpage)
    kpage.wait_for_url(re.compile(r"/manage/plans/\d+$"))
    plan_id = int(kpage.url.rsplit("/", 1)[1])
    # A quick solve may finish before the page is served: then it opens on the plan itself.
    solving = kpage.locator("#plan-progress").count() == 1
    assert not violations(kpage, "plan solving", 1280)  # the progress box (or, if quick, the plan)
    kpage.locator("#plan-grid").wait_for(timeout=90000)  # progress followed, page not reloaded
    assert kpage.evaluate("performance.getEntriesByType('navigation').length") == 1
    if solving:  # the end was announced in the live region
        kpage.locator("#sel-live", has_text=f"Plan {plan_id} finished").wait_for(
            state="attached", timeout=10000)
    # the grid is one Tab stop: in with Tab, along with the arrows, out with one more Tab
    tab_to(kpage, "#plan-grid a")
    first = kpage.evaluate("document.activeElement.textContent")
    kpage.keyboard.press("ArrowDown")
    assert focused(kpage, "#plan-grid a")
    assert kpage.evaluate("document.activeElement.textContent") or first
    kpage.keyboard.press("Tab")
    assert not focused(kpage, "#plan-grid a")
    assert kpage.locator("#plan-grid a[tabindex='0']").count() == 1
    shot(kpage, "keyboard-plan-grid")
    # and a link before it skips past it
    kpage.goto(kpage.url)
    tab_to(kpage, ".sel-skip")
    kpage.keyboard.press("Enter")
    assert focused(kpage, "#after-grid")
    tab_to(kpage, "#publish", back=True)
    enter(kpage)
    kpage.locator("#publish-summary").wait_for()
    tab_to(kpage, "#confirm-publish")
    enter(kpage)
    assert "published" in kpage.locator("#plan-status").inner_text()
    assert "Live:" in kpage.locator("#plan-live").inner_text()
    with live_server["app"].app_context():
        from sel_time.core.extensions import db
        from sel_time.models import Plan, PlanStatus

        assert db.session.scalar(sa.select(Plan.status).where(Plan.id == plan_id)) == (
            PlanStatus.PUBLISHED)
        db.session.remove()


def test_run_a_what_if(live_server: dict[str, Any], kpage: Any) -> None:
    sign_in_by_keyboard(kpage, live_server, "finance")
    tab_to(kpage, "a.nhsuk-header__navigation-link[href='/finance/whatif']")
    enter(kpage)
    assert kpage.locator("#start").input_value()  # next Monday already
    type_into(kpage, "#weeks", "1")
    type_into(kpage, "#rate_change_percent", "4")
    type_into(kpage, "#time_limit", "5")
    tab_to(kpage, "#run-whatif")
    enter(kpage)
    kpage.wait_for_url(re.compile(r"/finance/whatif/\d+$"))
    running = kpage.locator("#whatif-progress").count() == 1  # a quick run opens on its result
    assert not violations(kpage, "what-if running", 1280)
    kpage.locator("#whatif-result").wait_for(timeout=90000)
    assert "rates +4 %" in kpage.locator("#whatif-change").inner_text()
    if running:  # the end was announced in the live region
        kpage.locator("#sel-live", has_text="finished").wait_for(state="attached")
    shot(kpage, "keyboard-whatif-result")
