"""Pages as an NHS user expects them: NHS.UK frontend started on every page, a header logo
whose name holds its visible text, styled error pages, plain-sentence validation."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.sign_in import signed_in, users_of_every_role

from sel_time.core.extensions import db
from sel_time.models import User

STATIC = Path(__file__).resolve().parents[2] / "sel_time" / "static"
PAGES = {"admin": ["/manage", "/manage/people", "/manage/people/new", "/manage/plans"],
         "finance": ["/finance", "/finance/whatif"], "leader": ["/me", "/me/subscribe"]}


@pytest.fixture()
def users(app: Any, make: Any) -> dict[str, User]:
    return users_of_every_role(make, "nhs-pages.test")


def _all_pages(app: Any, users: dict[str, User]) -> list[str]:
    out = [signed_in(app, None).get("/login").get_data(as_text=True)]
    for role, paths in PAGES.items():
        client = signed_in(app, users[role])
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, path
            out.append(r.get_data(as_text=True))
    return out


def test_every_page_starts_nhsuk_frontend(app: Any, users: dict[str, User]) -> None:
    for html in _all_pages(app, users):
        assert re.search(r'<script src="/static/nhsuk-init.js[^"]*" type="module">', html)
    init = (STATIC / "nhsuk-init.js").read_text()
    assert "import { initAll } from './nhsuk/nhsuk-frontend.min.js'" in init
    assert "nhsuk-frontend-supported" in init and "initAll();" in init
    assert "export{" in (STATIC / "nhsuk" / "nhsuk-frontend.min.js").read_text()


def test_header_has_the_mobile_menu_and_banners_take_focus(app: Any,
                                                           users: dict[str, User]) -> None:
    html = signed_in(app, users["admin"]).get("/manage").get_data(as_text=True)
    assert '<li class="nhsuk-header__menu" hidden>' in html
    assert '<button class="nhsuk-header__menu-toggle' in html
    template = (STATIC.parent / "templates" / "base.html").read_text()
    assert 'data-module="nhsuk-notification-banner"' in template
    assert re.search(r"role=\"\{\{ 'alert' if category == 'success'.*tabindex=\"-1\"", template)


def test_failed_sign_in_shows_a_focusable_error_summary(app: Any, users: dict[str, User]) -> None:
    r = signed_in(app, None).post("/login", data={"email": users["admin"].email,
                                                   "password": "wrong"})
    html = r.get_data(as_text=True)
    assert 'data-module="nhsuk-error-summary" tabindex="-1"' in html
    assert '<a href="#email">' in html


def test_logo_name_contains_its_visible_text(app: Any, users: dict[str, User]) -> None:
    for html in _all_pages(app, users):
        link = re.search(r'<a class="nhsuk-header__service-logo"[^>]*>(.*?)</a>', html, re.S)
        assert link is not None and "aria-label" not in link.group(0).split(">")[0]
        inner = link.group(1)
        visible = re.search(r'nhsuk-header__service-name">([^<]*)<', inner).group(1)
        name = " ".join(re.findall(r'aria-label="([^"]*)"', inner)[:1]
                        + [re.sub(r"<[^>]+>", "", inner.split("</svg>")[1]).strip()])
        assert visible == "sel-time: protected time for leaders"
        assert visible in name


def _has_layout(html: str) -> None:
    assert '<header class="nhsuk-header"' in html and "nhsuk-init.js" in html
    assert '<a href="/">Go to the start page</a>' in html


def test_browser_404_and_403_are_styled_pages(app: Any, users: dict[str, User]) -> None:
    client = signed_in(app, users["leader"])
    r = client.get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    _has_layout(html)
    assert "<h1>Page not found</h1>" in html and "check it is correct" in html
    r = client.get("/manage")
    assert r.status_code == 403 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    _has_layout(html)
    assert "<h1>You cannot see this page</h1>" in html


def test_api_404_is_still_problem_json(app: Any) -> None:
    r = app.test_client().get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 404


def test_browser_500_is_a_styled_page_and_the_api_keeps_json(app: Any) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("boom")

    r = app.test_client().get("/boom-for-test")
    assert r.status_code == 500 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    _has_layout(html)
    assert "Sorry, there is a problem with the service" in html and "boom" not in html
    r = app.test_client().get("/boom-for-test", headers={"Content-Type": "application/json"})
    assert r.mimetype == "application/problem+json"


@pytest.fixture()
def past_session(app: Any, users: dict[str, User]) -> int:
    """An unrecorded session of the leader's, two days ago; its attendance id."""
    from datetime import timedelta

    from sel_time.core.clock import now_utc
    from sel_time.models import Attendance, ProtectedSession, RosterStatus

    start = (now_utc() - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    session = ProtectedSession(uid="nhs-pages-past@sel-time", person_id=users["leader"].person_id,
                               slot=f"{start.date().isoformat()}/AM", start_at=start,
                               end_at=start + timedelta(hours=4), status=RosterStatus.CONFIRMED,
                               sequence=0, published_at=now_utc(), last_modified=now_utc())
    session.attendances.append(Attendance(person_id=users["leader"].person_id, cost_pence=16400))
    db.session.add(session)
    db.session.commit()
    return int(session.attendances[0].id)


def test_record_form_assumes_no_outcome_and_has_a_note_box(app: Any, users: dict[str, User],
                                                           past_session: int) -> None:
    html = signed_in(app, users["leader"]).get("/me").get_data(as_text=True)
    form = html[html.index(f'action="/me/attendances/{past_session}"'):]
    form = form[:form.index("</form>")]
    assert 'type="radio"' in form and " checked" not in form and " selected" not in form
    assert f'<label class="nhsuk-label" for="note-{past_session}">' in form
    assert f'<textarea class="nhsuk-textarea" id="note-{past_session}" name="note"' in form


def test_save_without_an_outcome_is_refused_in_words(app: Any, users: dict[str, User],
                                                     past_session: int) -> None:
    from sel_time.models import Attendance

    client = signed_in(app, users["leader"])
    r = client.post(f"/me/attendances/{past_session}", data={"note": "ward was short"})
    assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Choose whether you got this protected time" in html
    db.session.expire_all()
    assert db.session.get(Attendance, past_session).outcome is None


def test_saved_record_is_confirmed_at_the_top_with_its_note(app: Any, users: dict[str, User],
                                                            past_session: int) -> None:
    from sel_time.models import Attendance

    client = signed_in(app, users["leader"])
    r = client.post(f"/me/attendances/{past_session}",
                    data={"outcome": "lost_clinical_pressure", "note": "ward was short"})
    assert r.status_code == 302 and "#" not in r.headers["Location"]
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    banner = html.index("nhsuk-notification-banner--success")
    assert banner < html.index("<h1>My protected time</h1>")
    assert 'role="alert" tabindex="-1"' in html
    assert "ward was short</textarea>" in html
    assert ", morning: lost to clinical pressure" in html  # the confirmation, in words
    assert "Lost to clinical pressure</strong>" in html and "lost_clinical" not in html.split(
        'name="outcome"')[0]
    db.session.expire_all()
    att = db.session.get(Attendance, past_session)
    assert att.outcome.value == "lost_clinical_pressure" and att.note == "ward was short"


def test_directory_shows_codes_in_words(app: Any, users: dict[str, User], make: Any) -> None:
    make("people", name="Band Eight", email="band.eight@nhs.net", staff_group="afc_band_8a",
         profession="sas_doctor")
    html = signed_in(app, users["admin"]).get("/manage/people").get_data(as_text=True)
    assert "AfC band 8a" in html and "SAS doctor" in html
    assert "afc_band_8a" not in html and ">sas_doctor<" not in html
    html = signed_in(app, users["admin"]).get("/manage/people/new").get_data(as_text=True)
    assert '<option value="sas_doctor">SAS doctor</option>' in html


DEVELOPER_TEXT = ("Input should", "Value error", "input is too short", "Field required",
                  "_id", "_date", "_amount", "ent_", "role_", "time_limit", "YYYY")


def _summary(html: str) -> list[str]:
    """The error summary's items, as text."""
    box = html[html.index('class="nhsuk-error-summary"'):]
    box = box[:box.index("</ul>")]
    items = re.findall(r"<li>(.*?)</li>", box, re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in items]


def _only_sentences(html: str) -> list[str]:
    items = _summary(html)
    assert items
    for text in items:
        assert not any(bad in text for bad in DEVELOPER_TEXT), text
        assert text[:1].isupper(), text
    for message in re.findall(r'class="nhsuk-error-message"[^>]*>(.*?)</span>\s*(.*?)</span>',
                              html, re.S):
        assert not any(bad in message[1] for bad in DEVELOPER_TEXT), message
    return items


def test_empty_and_wrong_record_forms_are_refused_in_sentences(app: Any,
                                                              users: dict[str, User]) -> None:
    client = signed_in(app, users["admin"])
    r = client.post("/manage/people/new", data={})
    assert r.status_code == 422
    items = _only_sentences(r.get_data(as_text=True))
    assert "Choose a profession" in items and "Enter a name" in items
    assert '<a href="#profession">Choose a profession</a>' in r.get_data(as_text=True)
    r = client.post("/manage/people/new", data={"name": "A Person", "email": "not-an-email",
                                                "profession": "consultant", "fte": "lots",
                                                "max_per_day": "9"})
    assert r.status_code == 422
    items = _only_sentences(r.get_data(as_text=True))
    assert "Enter an email address in the correct format, like name@nhs.net" in items
    assert "Whole-time equivalent must be a number" in items
    assert "Most sessions a day must be 2 or less" in items


def test_empty_and_wrong_what_if_is_refused_in_sentences(app: Any,
                                                         users: dict[str, User]) -> None:
    client = signed_in(app, users["finance"])
    r = client.post("/finance/whatif", data={"start": "", "weeks": "12"})
    items = _only_sentences(r.get_data(as_text=True))
    assert "Enter a first day, for example 18 1 2027" in items
    assert '<option value="sas_doctor">SAS doctor</option>' in r.get_data(as_text=True)
    r = client.post("/finance/whatif", data={"start": "2027-02-30", "weeks": "99",
                                             "ent_profession": "nurse", "ent_amount": "-1"})
    items = _only_sentences(r.get_data(as_text=True))
    assert "First day must be a real date, for example 18 1 2027" in items
    assert "Number of weeks must be 26 or less" in items


def test_empty_leave_and_wrong_plan_are_refused_in_sentences(app: Any,
                                                             users: dict[str, User]) -> None:
    client = signed_in(app, users["leader"])
    r = client.post("/me/leave", data={"kind": "annual"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Leave not booked. Enter a start date, for example 18 1 2027." in html
    assert "start_date" not in html.split("<main")[1].split("<form")[0]
    client = signed_in(app, users["admin"])
    r = client.post("/manage/plans", data={"start": "2027-01-04", "weeks": "99"})
    items = _only_sentences(r.get_data(as_text=True))
    assert "Enter a number of weeks from 1 to 52" in items
    r = client.post("/manage/plans", data={"start": "soon", "weeks": "4"})
    assert "Enter the first day as a date, for example 30 11 2026" in _only_sentences(
        r.get_data(as_text=True))
