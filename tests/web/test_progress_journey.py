"""In headless Chromium: a leader answers a pulse survey from the link in their e-mail; a
programme lead closes the wave and sees its results, with withheld cells marked in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.web.conftest import shot, sign_in

pytestmark = pytest.mark.slow  # a browser journey


def _open_pulse_and_read_the_email(server: dict[str, Any]) -> tuple[str, int]:
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.clock import today_london
    from sel_time.core.extensions import db
    from sel_time.mail import MailMessage
    from sel_time.models import User
    from sel_time.progress import mailing, surveys
    from sel_time.progress.models import Survey

    with server["app"].app_context():
        survey = db.session.scalars(sa.select(Survey)).one()
        wave, messages = surveys.open_wave(survey, today_london(), CLI_ACTOR)
        mailing.send(messages, "survey_invitation")
        leader = db.session.scalars(
            sa.select(User).where(User.email == server["accounts"]["leader"])).one()
        assert leader.person is not None
        mail = db.session.scalars(sa.select(MailMessage).where(
            MailMessage.recipient == leader.person.email,
            MailMessage.kind == "survey_invitation")).one()
        number, body = wave.number, mail.text_body
        db.session.commit()
    found = re.search(r"(http://\S+/survey/\S+)", body)
    assert found, body
    return found.group(1), number


def test_a_leader_answers_from_the_email_and_the_programme_lead_sees_withheld_cells(
        live_server: dict[str, Any], page: Any) -> None:
    link, number = _open_pulse_and_read_the_email(live_server)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Leadership time pulse"
    assert "anonymous" in page.locator(".nhsuk-inset-text").inner_text()
    page.get_by_role("group", name=re.compile("protected from clinical")).get_by_label(
        "Agree", exact=True).check()
    page.get_by_label("Clinical or care pressure").check()
    page.get_by_label(re.compile("biggest barrier")).fill("Clinics overrun every Tuesday.")
    shot(page, "progress-survey-answer")
    page.click("#submit-survey")
    assert "Thank you" in page.locator("h1").inner_text()
    page.goto(link)
    assert "already answered" in page.locator("main").inner_text()

    sign_in(page, live_server, "programme_lead")
    page.goto(live_server["url"] + "/progress")
    assert "Results are hidden while the wave is open" in page.locator("main").inner_text()
    page.get_by_role("button", name=f"Close wave {number}").click()
    page.get_by_role("link", name=f"Results of wave {number}").click()
    main = page.locator("main").inner_text()
    assert "fewer than 11 responses" in main  # one answer: nothing of it is shown
    assert "Clinics overrun every Tuesday" not in main
    shot(page, "progress-results-one-answer")
    page.goto(live_server["url"] + "/progress")
    page.get_by_role("link", name="Results of wave 2").click()
    withheld = page.locator(".sel-withheld")
    assert withheld.count() > 0
    assert re.search(r"fewer than 11 responses|withheld", withheld.first.inner_text())
    assert page.locator("#trend-chart").count() == 1
    trend = page.locator("#trend-table tbody tr")
    assert trend.count() == 3  # the baseline, the second wave, and the one just closed
    assert re.fullmatch(r"[1-5]\.\d+", trend.nth(0).locator("td").nth(3).inner_text())
    shot(page, "progress-results-wave-2")
