"""What the pages now offer each role (issue 17): every page linked, departments named with
their organisation, finance grouped by year/quarter/department with totals, round chart axes,
'nothing published', a discard and a confirmed publish for plans, which plan is live, leave
cancelled and warned about, the what-if's defaults and wording, the subscribe link's host."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from support.sign_in import signed_in, users_of_every_role

from sel_time.core.extensions import db
from sel_time.models import User


@pytest.fixture()
def users(app: Any, make: Any) -> dict[str, User]:
    return users_of_every_role(make, "features.test", name="Lee Leader")


def _menu(html: str) -> list[str]:
    nav = html[html.index('aria-label="Menu"'):]
    nav = nav[:nav.index("</nav>")]
    return re.findall(r'class="nhsuk-header__navigation-link" href="([^"]+)"', nav)


def test_every_page_a_role_may_use_is_in_its_menu(app: Any, users: dict[str, User]) -> None:
    menu = _menu(signed_in(app, users["rota_manager"]).get("/manage").get_data(as_text=True))
    for path in ("/manage/assignments", "/manage/departments", "/manage/leave",
                 "/finance/whatif", "/manage/plans", "/manage/people"):
        assert path in menu, (path, menu)
    client = signed_in(app, users["rota_manager"])
    for path in ("/manage/assignments", "/manage/departments", "/manage/leave"):
        assert client.get(path).status_code == 200
    menu = _menu(signed_in(app, users["finance"]).get("/finance").get_data(as_text=True))
    assert "/finance/whatif" in menu and "/manage/leave" not in menu


def test_accessibility_statement_is_public_and_linked_from_every_page(app: Any,
                                                                     users: dict[str, User]
                                                                     ) -> None:
    r = app.test_client().get("/accessibility")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<h1>Accessibility statement for sel-time</h1>" in html
    assert "WCAG" in html and '<header class="nhsuk-header"' in html
    for client, path in ((app.test_client(), "/login"),
                         (signed_in(app, users["leader"]), "/me")):
        assert 'href="/accessibility">Accessibility statement</a>' in client.get(
            path).get_data(as_text=True)


def test_department_choices_name_their_organisation(app: Any, users: dict[str, User],
                                                    make: Any) -> None:
    a = make("organisations", name="King's College Hospital")
    b = make("organisations", name="Lewisham and Greenwich")
    make("departments", name="Clinical Team", organisation_id=a.id)
    make("departments", name="Clinical Team", organisation_id=b.id)
    html = signed_in(app, users["admin"]).get("/manage/people/new").get_data(as_text=True)
    assert ">Clinical Team (King&#39;s College Hospital)</option>" in html
    assert ">Clinical Team (Lewisham and Greenwich)</option>" in html


def test_every_table_scrolls_in_its_own_labelled_box(app: Any, users: dict[str, User]) -> None:
    for role, path in (("admin", "/manage/people"), ("admin", "/manage/plans"),
                       ("finance", "/finance")):
        html = signed_in(app, users[role]).get(path).get_data(as_text=True)
        tables = re.findall(r"<table\b[^>]*>", html)
        assert tables, path
        boxes = re.findall(r'<div class="sel-table" role="region" aria-labelledby="([^"]+)" '
                           r'tabindex="0">\s*<table', html)
        assert len(boxes) == len(tables), path
        assert all(f'id="{b}"' in html for b in boxes)
        assert "data-sortable" in html
    assert "sel-time.js" in html


def test_finance_groups_by_year_quarter_and_department_with_totals(app: Any,
                                                                   users: dict[str, User]
                                                                   ) -> None:
    html = signed_in(app, users["finance"]).get("/finance").get_data(as_text=True)
    for heading in ("By financial year", "By quarter", "By month", "By organisation",
                    "By department", "By profession"):
        assert f">{heading}</h2>" in html
    assert html.count('<tfoot><tr class="nhsuk-table__row sel-total"><th class="nhsuk-table__cell"'
                      ' scope="row">Total</th>') == 6


def test_an_empty_period_says_nothing_is_published(app: Any, users: dict[str, User]) -> None:
    html = signed_in(app, users["finance"]).get(
        "/finance?from=2001-01-01&to=2001-01-31").get_data(as_text=True)
    assert 'id="nothing-published"' in html and "Nothing published for this period" in html


@pytest.mark.parametrize(("top", "step"), [(62677, 20000), (1, 0.25), (999, 250),
                                           (100, 25), (120000, 50000), (0, 1)])
def test_chart_axes_go_in_round_steps(top: float, step: float) -> None:
    from sel_time.finance.dashboard import nice_step

    assert nice_step(top) == step


def test_chart_names_are_whole_and_the_axis_reaches_past_the_top() -> None:
    from sel_time.finance.dashboard import bar_chart

    rows = [{"organisation": "Guy's and St Thomas' NHS Foundation Trust", "planned": 62677.0,
             "delivered": 1000.0, "budget": 50000.0},
            {"organisation": "King's", "planned": 10.0, "delivered": 0.0, "budget": None}]
    chart = bar_chart(rows, "organisation", "By organisation")
    assert chart["labels"][0]["text"] == "Guy's and St Thomas' NHS Foundation Trust"
    assert [t["label"] for t in chart["ticks"]] == ["£0", "£20,000", "£40,000", "£60,000",
                                                    "£80,000"]
    assert chart["height"] - chart["base"] > 41 * 6.6 * 0.7  # room below for the slanted name


def test_what_if_starts_next_monday_by_default(app: Any, users: dict[str, User]) -> None:
    from sel_time.core.clock import today_london

    html = signed_in(app, users["finance"]).get("/finance/whatif").get_data(as_text=True)
    start = re.search(r'id="start" name="start" type="date" value="([^"]*)"', html)
    assert start is not None and start.group(1)
    day = date.fromisoformat(start.group(1))
    assert day.weekday() == 0 and today_london() < day <= today_london() + timedelta(days=7)


def test_subscribe_link_follows_the_request_host_when_no_public_url(app: Any,
                                                                     users: dict[str, User]
                                                                     ) -> None:
    app.config["PUBLIC_URL"] = ""
    client = signed_in(app, users["leader"])
    html = client.post("/me/subscribe", base_url="https://rota.example.nhs.uk:8443").get_data(
        as_text=True)
    assert re.search(r'id="feed-url" readonly value="https://rota\.example\.nhs\.uk:8443/feeds/'
                     r'[^"]+\.ics"', html)
    assert 'data-copy="feed-url"' in html and ">Copy link</button>" in html
    app.config["PUBLIC_URL"] = "https://sel-time.example.nhs.uk"
    html = client.post("/me/subscribe", base_url="http://localhost:1234").get_data(as_text=True)
    assert 'value="https://sel-time.example.nhs.uk/feeds/' in html


def _published_session(user: User, when: date, half: str = "AM") -> int:
    from datetime import datetime, time

    from sel_time.core.clock import LONDON, now_utc
    from sel_time.models import Attendance, ProtectedSession, RosterStatus

    start = datetime.combine(when, time(9 if half == "AM" else 13), LONDON)
    s = ProtectedSession(uid=f"features-{when}-{half}@sel-time", person_id=user.person_id,
                         slot=f"{when.isoformat()}/{half}", start_at=start,
                         end_at=start + timedelta(hours=4), status=RosterStatus.CONFIRMED,
                         sequence=0, published_at=now_utc(), last_modified=now_utc())
    s.attendances.append(Attendance(person_id=user.person_id, cost_pence=16400))
    db.session.add(s)
    db.session.commit()
    return int(s.id)


def test_leave_over_a_published_session_warns_and_leave_can_be_cancelled(
        app: Any, users: dict[str, User]) -> None:
    from sel_time.core.clock import today_london
    from sel_time.models import Absence

    monday = today_london() + timedelta(days=(7 - today_london().weekday()) % 7 or 7)
    _published_session(users["leader"], monday + timedelta(days=1), "PM")
    _published_session(users["leader"], monday + timedelta(days=3), "AM")  # not in the leave
    client = signed_in(app, users["leader"])
    r = client.post("/me/leave", data={"kind": "annual", "start_date": monday.isoformat(),
                                       "start_half": "AM",
                                       "end_date": (monday + timedelta(days=2)).isoformat(),
                                       "end_half": "PM"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Leave booked" in html
    tuesday = monday + timedelta(days=1)
    assert (f"Your leave falls on 1 published protected session (Tue {tuesday.day} "
            f"{tuesday:%b %Y}, afternoon)") in html
    absence = db.session.scalar(sa.select(Absence))
    assert absence is not None
    assert f'action="/me/leave/{absence.id}/cancel"' in html
    r = client.post(f"/me/leave/{absence.id}/cancel", follow_redirects=True)
    assert "Leave cancelled: annual leave from" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0


def test_someone_elses_leave_cannot_be_cancelled(app: Any, users: dict[str, User],
                                                  make: Any) -> None:
    from sel_time.models import Absence

    stranger = make("people", name="Someone Else")
    absence = Absence(person_id=stranger.id, kind="annual", start_date=date(2030, 1, 7),
                      end_date=date(2030, 1, 8))
    db.session.add(absence)
    db.session.commit()
    r = signed_in(app, users["leader"]).post(f"/me/leave/{absence.id}/cancel",
                                             follow_redirects=True)
    assert "No such leave of yours" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Absence, absence.id) is not None


def _draft_plan(status: str = "draft") -> int:
    from sel_time.core.clock import now_utc
    from sel_time.models import Plan, PlanStatus

    plan = Plan(scope="system", start_date=date(2030, 1, 7), weeks=2,
                status=PlanStatus(status), time_limit=5, progress=1.0, requested_by="test",
                created_at=now_utc(), problem={
                    "format": "sel-time/problem@1", "people": [], "commitments": [], "teams": [],
                    "slots": [{"id": "2030-01-07/AM", "start": "2030-01-07T09:00",
                               "end": "2030-01-07T13:00"}]},
                solution={"status": "optimal"})
    db.session.add(plan)
    db.session.commit()
    return int(plan.id)


def test_a_draft_is_discarded_after_a_confirmation(app: Any, users: dict[str, User]) -> None:
    from sel_time.models import AuditEvent, Plan

    plan_id = _draft_plan()
    client = signed_in(app, users["rota_manager"])
    html = client.get(f"/manage/plans/{plan_id}").get_data(as_text=True)
    assert f'href="/manage/plans/{plan_id}/discard"' in html
    html = client.get(f"/manage/plans/{plan_id}/discard").get_data(as_text=True)
    assert f"<h1>Discard plan {plan_id}?</h1>" in html and 'id="confirm-discard"' in html
    assert db.session.get(Plan, plan_id) is not None  # asking changes nothing
    r = client.post(f"/manage/plans/{plan_id}/discard", follow_redirects=True)
    assert f"Plan {plan_id} discarded" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Plan, plan_id) is None
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event is not None and event.action == "delete" and event.entity == "plan"


def test_a_published_plan_cannot_be_discarded(app: Any, users: dict[str, User]) -> None:
    from sel_time.models import Plan

    plan_id = _draft_plan("published")
    r = signed_in(app, users["rota_manager"]).post(f"/manage/plans/{plan_id}/discard",
                                                   follow_redirects=True)
    assert "only a draft can be discarded" in r.get_data(as_text=True)
    assert db.session.get(Plan, plan_id) is not None


def test_publishing_is_summarised_and_confirmed_first(app: Any, users: dict[str, User]) -> None:
    from sel_time.models import AuditEvent, Plan, PlanStatus

    plan_id = _draft_plan()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    client = signed_in(app, users["rota_manager"])
    html = client.get(f"/manage/plans/{plan_id}").get_data(as_text=True)
    assert f'href="/manage/plans/{plan_id}/publish"' in html  # a link to the summary, not a post
    html = client.get(f"/manage/plans/{plan_id}/publish").get_data(as_text=True)
    assert f"<h1>Publish plan {plan_id}?</h1>" in html and 'id="publish-summary"' in html
    assert "Sessions added" in html and 'id="confirm-publish"' in html
    db.session.expire_all()
    assert db.session.get(Plan, plan_id).status == PlanStatus.DRAFT  # the preview kept nothing
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events
    client.post(f"/manage/plans/{plan_id}/publish")
    db.session.expire_all()
    assert db.session.get(Plan, plan_id).status == PlanStatus.PUBLISHED


def test_the_live_published_plan_is_marked(app: Any, users: dict[str, User]) -> None:
    from sel_time.core.clock import today_london
    from sel_time.models import ProtectedSession

    old, live = _draft_plan("published"), _draft_plan("published")
    sid = _published_session(users["leader"], today_london() + timedelta(days=8))
    db.session.get(ProtectedSession, sid).plan_id = live
    db.session.commit()
    client = signed_in(app, users["rota_manager"])
    html = client.get("/manage/plans").get_data(as_text=True)
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(
        r'>Plan (\d+)</a></td>(.*?)</tr>', html, re.S)}
    assert "published: live" in rows[live] and "published: replaced" in rows[old]
    html = client.get(f"/manage/plans/{live}").get_data(as_text=True)
    assert "<strong>Live:</strong> the roster for its 1 sessions still to come" in html
    html = client.get(f"/manage/plans/{old}").get_data(as_text=True)
    assert "Replaced: later plans" in html


def test_dashboard_claims_nothing_not_yet_happened_and_names_no_command(
        app: Any, users: dict[str, User]) -> None:
    html = signed_in(app, users["rota_manager"]).get("/manage").get_data(as_text=True)
    assert "On track" in html and "time recorded as taken" not in html
    assert "sel-time scheduler" not in html and "<code>" not in html
