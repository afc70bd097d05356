"""Lists and sessions as a user reads them (issue 17): every "and N more" opens, each session
shows its start and end time and where it is held (as its calendar event has them), the
people list searches more than names and says how many it found, and the working pattern is
chosen half-day by half-day."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from sel_time.core.clock import LONDON, now_utc
from sel_time.core.extensions import db
from sel_time.models import Attendance, ProtectedSession, RosterStatus, User, UserRole
from tests.support.sign_in import PASSWORD, signed_in


@pytest.fixture()
def users(app: Any, make: Any) -> dict[str, Any]:
    org = make("organisations", name="Lewisham and Greenwich NHS Trust", code="lgt")
    dept = make("departments", name="Emergency Medicine", organisation_id=org.id)
    person = make("people", name="Lee Leader", email="lee.leader@nhs.net", staff_number="S-4417",
                  profession="consultant", organisation_id=org.id, department_id=dept.id)
    other = make("people", name="Ola Other", profession="nurse")
    role = make("roles", title="Clinical Director", host_organisation_id=org.id)
    assignment = make("assignments", person_id=person.id, role_id=role.id,
                      start_date="2020-01-01")
    out: dict[str, Any] = {"person": person, "other": other, "assignment": assignment}
    for r in (UserRole.LEADER, UserRole.ROTA_MANAGER):
        user = User(email=f"{r.value}@lists.test", name=r.value, role=r,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
                    person_id=person.id if r == UserRole.LEADER else None)
        db.session.add(user)
        out[r.value] = user
    db.session.commit()
    return out


def _sessions(person_id: int, assignment_id: int, first: date, count: int) -> None:
    for k in range(count):
        day = first + timedelta(days=7 * k)
        start = datetime.combine(day, time(13), LONDON)
        s = ProtectedSession(uid=f"lists-{k}@sel-time", person_id=person_id,
                             assignment_id=assignment_id, slot=f"{day.isoformat()}/PM",
                             start_at=start, end_at=start + timedelta(hours=4),
                             status=RosterStatus.CONFIRMED, sequence=0, published_at=now_utc(),
                             last_modified=now_utc())
        s.attendances.append(Attendance(person_id=person_id, cost_pence=16400))
        db.session.add(s)
    db.session.commit()


def test_my_time_shows_end_times_places_and_opens_and_n_more(app: Any, users: dict[str, Any]
                                                            ) -> None:
    first = date.today() + timedelta(days=7 - date.today().weekday())
    _sessions(users["person"].id, users["assignment"].id, first, 15)
    html = signed_in(app, users["leader"]).get("/me").get_data(as_text=True)
    # the feed's times (13:00 to 17:00 London) and the role's host organisation
    assert html.count("13:00 to 17:00, Lewisham and Greenwich NHS Trust") == 15
    more = re.search(r'<details class="nhsuk-details sel-more">(.*?)</details>', html, re.S)
    assert more is not None, "the rest of the list is in a disclosure"
    assert re.search(r"<summary[^>]*>.*and 3 more", more.group(1), re.S)
    assert more.group(1).count("<li>") == 3  # the three not shown above it, inside
    last = first + timedelta(days=7 * 14)
    assert f"{last:%a} {last.day} {last:%b %Y}" in more.group(1)


def test_the_dashboard_opens_the_shortfalls_it_leaves_out(app: Any, users: dict[str, Any],
                                                          monkeypatch: Any) -> None:
    from sel_time.core.clock import today_london
    from sel_time.dashboard import pages
    from sel_time.models import Plan, PlanShortfall, PlanStatus

    plan = Plan(scope="system", start_date=today_london(), weeks=2, status=PlanStatus.PUBLISHED,
                time_limit=5, progress=1.0, requested_by="test", created_at=now_utc())
    for k in range(3):
        plan.shortfalls.append(PlanShortfall(
            assignment_id=users["assignment"].id, window_from=today_london(),
            window_to=today_london(), required=2, scheduled=1, reason="unavailable",
            explanation=f"Shortfall number {k}"))
    db.session.add(plan)
    db.session.commit()
    monkeypatch.setattr(pages, "SHORTFALLS_SHOWN", 2)
    client = signed_in(app, users["rota_manager"])
    html = client.get("/manage").get_data(as_text=True)
    assert "Shortfall number 2" not in html
    link = re.search(r'<p id="more-shortfalls">and 1 more: <a href="([^"]+)">show all 3 '
                     r"shortfalls</a></p>", html)
    assert link is not None
    html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert all(f"Shortfall number {k}" in html for k in range(3))
    assert "more-shortfalls" not in html


def test_people_are_found_by_email_staff_number_profession_organisation_and_department(
        app: Any, users: dict[str, Any]) -> None:
    client = signed_in(app, users["rota_manager"])
    for q in ("lee.leader@", "s-4417", "consultant", "Lewisham", "emergency", "lgt",
              "consultant lewisham"):
        html = client.get("/manage/people", query_string={"q": q}).get_data(as_text=True)
        count = re.search(r'id="result-count" role="status">([^<]*)<', html)
        assert count is not None and count.group(1).startswith("1 record matching"), (q, count)
        assert "Lee Leader" in html and "Ola Other" not in html, q
        assert "<title>People: 1 record matching" in html, q  # read first on the new page
    html = client.get("/manage/people", query_string={"q": "nobody-like-this"}).get_data(
        as_text=True)
    assert "0 records matching" in html
    html = client.get("/manage/people", query_string={"q": "100%"}).get_data(as_text=True)
    assert "0 records matching" in html  # % is a character to find, not a wildcard


def test_roles_are_found_by_host_organisation(app: Any, users: dict[str, Any]) -> None:
    html = signed_in(app, users["rota_manager"]).get(
        "/manage/roles", query_string={"q": "greenwich"}).get_data(as_text=True)
    assert "Clinical Director" in html and "1 record matching" in html


def test_the_working_pattern_is_chosen_per_half_day_and_kept(app: Any, users: dict[str, Any]
                                                            ) -> None:
    from sel_time.models import PatternSession

    person = users["person"]
    client = signed_in(app, users["rota_manager"])
    html = client.get(f"/manage/people/{person.id}").get_data(as_text=True)
    assert '<label class="nhsuk-label" for="pattern-Wed-PM">Afternoon' in html
    assert re.search(r'id="pattern-Wed-PM".*?<option value="clinical" selected>', html, re.S)
    form = {f"pattern-{d}-{h}": "" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
            for h in ("AM", "PM")}
    form.update({"pattern-Mon-AM": "clinical", "pattern-Thu-PM": "non_clinical",
                 "name": person.name, "email": person.email, "profession": "consultant",
                 "organisation_id": str(person.organisation_id), "fte": "1", "active": "on"})
    r = client.post(f"/manage/people/{person.id}", data=form)
    assert r.status_code == 302
    db.session.expire_all()
    kept = {(p.weekday, p.half.value, p.kind.value) for p in
            db.session.scalars(sa.select(PatternSession).where(
                PatternSession.person_id == person.id))}
    assert kept == {(0, "AM", "clinical"), (3, "PM", "non_clinical")}
    html = client.get(f"/manage/people/{person.id}").get_data(as_text=True)
    assert re.search(r'id="pattern-Thu-PM".*?<option value="non_clinical" selected>', html, re.S)
    assert re.search(r'id="pattern-Tue-AM".*?<option value="" selected>', html, re.S)

    form["pattern-Tue-AM"] = "sometimes"
    r = client.post(f"/manage/people/{person.id}", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert ('<a href="#pattern-Tue-AM">Choose clinical work, non-clinical work or not working '
            "for Tuesday morning</a>") in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PatternSession).where(
        PatternSession.person_id == person.id)) == 2  # nothing half-written


def test_a_new_persons_form_starts_with_weekdays_worked(app: Any, users: dict[str, Any]) -> None:
    html = signed_in(app, users["rota_manager"]).get("/manage/people/new").get_data(as_text=True)
    assert html.count('<option value="clinical" selected>') == 10  # Mon-Fri, AM and PM
