"""The problem a request is judged against is kept between requests that only look, and built
again after any write: leave booked through the API after the alternatives were listed
counts at once."""
from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import ProtectedSession
from sel_time.requests.rules import LiveRules

from .conftest import Published

Headers = Callable[[int], dict[str, str]]


def test_a_look_reuses_the_problem_and_leave_booked_since_counts_at_once(
        published: Published, client: FlaskClient, leader: Headers,
        rota: dict[str, str]) -> None:
    ada = published.small.ada
    att = published.sessions_of(ada)[0]
    session = db.session.get(ProtectedSession, att.session_id)
    assert session is not None
    first, again = LiveRules(session), LiveRules(session)
    assert again.problem is first.problem  # nothing written between: not built again
    assert again.roster is not first.roster  # each request judges on its own copy

    url = f"/api/v1/attendances/{att.id}/alternatives"
    options = client.get(url, headers=leader(ada)).get_json()["alternatives"]
    target = next(o for o in options if o["allowed"])
    day, half = target["slot"].split("/")
    r = client.post("/api/v1/absences", json={
        "person_id": ada, "kind": "other", "start_date": day, "start_half": half,
        "end_date": day, "end_half": half}, headers=rota)
    assert r.status_code == 201, r.get_json()

    after = client.get(url, headers=leader(ada)).get_json()["alternatives"]
    now = next(o for o in after if o["slot"] == target["slot"])
    assert now["allowed"] is False and now["reasons"]
    r = client.post("/api/v1/requests", json={"kind": "move", "attendance_id": att.id,
                                              "to_slot": target["slot"]},
                    headers=leader(ada))
    assert r.status_code == 422
    assert LiveRules(session).problem is not first.problem


def test_the_kept_roster_is_the_one_the_old_way_read(published: Published) -> None:
    from bench.requests_bench import old_live_rules

    for att in published.sessions_of(published.small.ben) + published.sessions_of(
            published.small.cara, team=True):
        session = db.session.get(ProtectedSession, att.session_id)
        assert session is not None
        new, old = LiveRules(session), old_live_rules(session)
        assert new.roster.sessions == old.roster.sessions
        assert new.roster.meetings == old.roster.meetings and new.roster.meetings
        assert new.roster.away == old.roster.away
        assert new.roster.department_names == old.roster.department_names
