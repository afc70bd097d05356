"""``/api/v1/roster`` and ``/api/v1/delivery`` answer one period (by default the 366 days from
183 days ago, never more than 366 days) one page at a time, and choose the rows in SQL: no
attendance outside the period is loaded, and the number of queries does not grow with the
roster. Before, both read every attendance ever and filtered in Python."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sel_time.core.clock import LONDON
from sel_time.core.extensions import db
from sel_time.models import Attendance, Outcome, ProtectedSession, RosterStatus

TODAY = date(2027, 1, 15)
FIRST_MONDAY = date(2026, 1, 5)
WEEKS = 104  # two years of Mondays: 2026-01-05 to 2027-12-27


@pytest.fixture()
def roster(app: Flask, make: Callable[..., Any]) -> dict[str, Any]:
    """Two leaders, each with a role and a published session every Monday morning for two
    years; the first half of the sessions recorded as taken."""
    org = make("organisations")
    people = [make("people", organisation_id=org.id, band="7") for _ in range(2)]
    role = make("roles", host_organisation_id=org.id)
    assignments = [make("assignments", person_id=p.id, role_id=role.id, start_date="2025-01-01")
                   for p in people]
    now = datetime(2025, 12, 1, tzinfo=UTC)
    days: dict[int, date] = {}  # attendance id -> day
    for week in range(WEEKS):
        day = FIRST_MONDAY + timedelta(weeks=week)
        start = datetime.combine(day, time(9), tzinfo=LONDON)
        for person, assignment in zip(people, assignments):
            s = ProtectedSession(uid=f"w{week}-p{person.id}@test", person_id=person.id,
                                 assignment_id=assignment.id, slot=f"{day.isoformat()}/AM",
                                 start_at=start, end_at=start + timedelta(hours=4),
                                 status=RosterStatus.CONFIRMED, published_at=now, last_modified=now)
            a = Attendance(person_id=person.id, cost_pence=10000,
                           outcome=Outcome.TAKEN if day < TODAY else None,
                           fraction_taken=1.0 if day < TODAY else None)
            s.attendances.append(a)
            db.session.add(s)
            db.session.flush()
            days[a.id] = day
    db.session.commit()
    return {"days": days, "people": people}


@pytest.fixture()
def today() -> Iterator[None]:
    with time_machine.travel(datetime.combine(TODAY, time(12), tzinfo=UTC), tick=False):
        yield


class Reads:
    """What one request read: SELECT statements, and the roster rows loaded as objects."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.sessions: set[int] = set()
        self.attendances: set[int] = set()

    def statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append(statement)

    def loaded(self, session: Session, obj: Any) -> None:
        if isinstance(obj, ProtectedSession):
            self.sessions.add(obj.id)
        elif isinstance(obj, Attendance):
            self.attendances.add(obj.id)


@pytest.fixture()
def reads(app: Flask) -> Iterator[Reads]:
    r = Reads()
    db.session.expunge_all()  # the fixture's objects are not "loaded" by a request
    sa.event.listen(db.engine, "before_cursor_execute", r.statement)
    sa.event.listen(Session, "loaded_as_persistent", r.loaded)
    yield r
    sa.event.remove(Session, "loaded_as_persistent", r.loaded)
    sa.event.remove(db.engine, "before_cursor_execute", r.statement)


def _in(days: dict[int, date], first: date, last: date) -> set[int]:
    return {a for a, d in days.items() if first <= d <= last}


def test_the_roster_is_one_period_one_page_at_a_time(
        client: FlaskClient, login_as: Callable[..., dict[str, str]], roster: dict[str, Any],
        today: None) -> None:
    rota = login_as("rota_manager")
    first, last = TODAY - timedelta(days=183), TODAY - timedelta(days=183) + timedelta(days=365)
    expected = _in(roster["days"], first, last)
    body = client.get("/api/v1/roster", headers=rota).get_json()
    assert (body["from"], body["to"]) == (first.isoformat(), last.isoformat())
    assert body["total"] == len(expected) == 104
    assert body["per_page"] == 50 and len(body["items"]) == 50
    seen, starts = [], []
    for page in (1, 2, 3):
        items = client.get(f"/api/v1/roster?page={page}", headers=rota).get_json()["items"]
        seen += [a["id"] for item in items for a in item["attendances"]]
        starts += [item["start"] for item in items]
    assert len(seen) == len(set(seen)) and set(seen) == expected and starts == sorted(starts)
    march = "/api/v1/roster?from=2027-03-01&to=2027-03-31&per_page=500"
    body = client.get(march, headers=rota).get_json()
    assert {a["id"] for item in body["items"] for a in item["attendances"]} == _in(
        roster["days"], date(2027, 3, 1), date(2027, 3, 31))
    assert body["total"] == 10  # five Mondays, two leaders
    person = roster["people"][0].id
    body = client.get(f"/api/v1/roster?to=2026-12-31&person_id={person}", headers=rota).get_json()
    assert body["from"] == "2025-12-31" and body["total"] == 52  # 366 days, counting both ends


def test_rows_outside_the_period_are_never_read_and_queries_do_not_grow(
        client: FlaskClient, login_as: Callable[..., dict[str, str]], roster: dict[str, Any],
        today: None, reads: Reads) -> None:
    rota = login_as("rota_manager")
    reads.statements.clear()
    r = client.get("/api/v1/roster?from=2027-03-01&to=2027-03-31", headers=rota)
    assert r.status_code == 200
    march = _in(roster["days"], date(2027, 3, 1), date(2027, 3, 31))
    assert reads.attendances == march  # nothing outside March was loaded
    assert {a for a in roster["days"] if a in reads.attendances} == march
    assert len(reads.sessions) == 10
    few = len(reads.statements)
    reads.statements.clear()
    assert client.get("/api/v1/roster?per_page=100", headers=rota).status_code == 200
    assert len(reads.statements) == few <= 10  # the same queries for 100 sessions as for 10

    reads.statements.clear()
    reads.attendances.clear()
    r = client.get("/api/v1/delivery?by=month&from=2027-03-01&to=2027-03-31", headers=rota)
    assert r.status_code == 200
    assert not reads.attendances  # figures come from columns chosen in SQL, not from objects
    assert len(reads.statements) <= 6
    [march_row] = r.get_json()["items"]
    assert march_row["month"] == "2027-03" and march_row["sessions_planned"] == 10


def test_delivery_is_one_period_one_page_of_groups(
        client: FlaskClient, login_as: Callable[..., dict[str, str]], roster: dict[str, Any],
        today: None) -> None:
    rota = login_as("rota_manager")
    body = client.get("/api/v1/delivery?by=month", headers=rota).get_json()
    months = [row["month"] for row in body["items"]]
    assert months[0] == "2026-07" and months[-1] == "2027-07" and body["total"] == 13
    assert (body["from"], body["to"]) == ("2026-07-16", "2027-07-16")
    body = client.get("/api/v1/delivery?by=month&per_page=5&page=3", headers=rota).get_json()
    assert [row["month"] for row in body["items"]] == months[10:13] and body["total"] == 13
    year = client.get("/api/v1/delivery?by=person&from=2026-01-01&to=2026-12-31",
                      headers=rota).get_json()
    assert [row["sessions_planned"] for row in year["items"]] == [52, 52]
    assert [row["hours_delivered"] for row in year["items"]] == [208.0, 208.0]


@pytest.mark.parametrize(("query", "field", "words"), [
    ("from=2026-01-01&to=2027-01-02", "to", "at most 366 days"),
    ("from=2027-01-10&to=2027-01-01", "to", "on or after from"),
    ("from=9999-12-31", "from", "a date from 2000-01-01 to 2100-12-31"),
    ("to=31/01/2027", "to", "YYYY-MM-DD"),
    ("per_page=501", "per_page", "between 1 and 500"),
    ("page=0", "page", "between 1 and 100000"),
])
@pytest.mark.parametrize("path", ["/api/v1/roster", "/api/v1/delivery"])
def test_a_period_or_page_out_of_bounds_is_refused_in_words(
        client: FlaskClient, login_as: Callable[..., dict[str, str]], path: str, query: str,
        field: str, words: str) -> None:
    r = client.get(f"{path}?{query}", headers=login_as("rota_manager"))
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    errors = r.get_json()["errors"]
    assert [e["field"] for e in errors] == [field] and words in errors[0]["message"]


def test_a_full_year_is_allowed(client: FlaskClient,
                                login_as: Callable[..., dict[str, str]]) -> None:
    r = client.get("/api/v1/roster?from=2028-01-01&to=2028-12-31", headers=login_as("finance"))
    assert r.status_code == 200 and r.get_json()["total"] == 0  # 366 days: 2028 is a leap year
