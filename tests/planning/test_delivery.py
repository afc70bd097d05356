"""Delivery: leaders record whether their protected time was actually taken, through the API
and a signed one-click link, and everyone sees planned against delivered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import UTC
from sel_time.core.errors import NotFound, ValidationError
from sel_time.core.extensions import db
from sel_time.delivery import recording
from sel_time.models import Attendance, Outcome, Plan, ProtectedSession
from sel_time.plans.publishing import publish
from tests.planning.conftest import Small

AFTER_WEEK_1 = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
AFTER_ALL = datetime(2027, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture()
def roster(small: Small, solve_plan: Callable[..., Plan]) -> dict[str, Attendance]:
    """The published roster's attendances, named ``<who>-<week>`` and ``team-<who>``."""
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    names = {small.ada: "ada", small.ben: "ben", small.cara: "cara"}
    out = {}
    for att, session in db.session.execute(
        sa.select(Attendance, ProtectedSession).join(ProtectedSession)
    ):
        who = names[att.person_id]
        if session.team_id:
            out[f"team-{who}"] = att
        else:
            out[f"{who}-{'w1' if session.slot < '2027-05' else 'w2'}"] = att
    assert set(out) == {"ada-w1", "ada-w2", "ben-w1", "ben-w2", "cara-w1", "team-ben", "team-cara"}
    return out


def post(client: FlaskClient, att: Attendance, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/attendances/{att.id}/delivery", json=body, headers=headers)


def test_a_leader_records_taken_partial_and_lost_on_past_sessions(
    small: Small,
    roster: dict[str, Attendance],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    ben = login_as("leader", small.ben)
    with time_machine.travel(AFTER_WEEK_1, tick=False):
        r = post(client, roster["ben-w1"], ben, outcome="taken")
        assert r.status_code == 200, r.get_data(as_text=True)
        [mine] = r.get_json()["attendances"]
        assert (mine["outcome"], mine["fraction_taken"]) == ("taken", 1.0)
        r = post(
            client,
            roster["team-ben"],
            ben,
            outcome="partial",
            fraction_taken=0.25,
            note="left at 3",
        )
        assert r.status_code == 200
        assert r.get_json()["attendances"][0]["fraction_taken"] == 0.25
        r = post(client, roster["team-ben"], ben, outcome="partial")
        assert r.status_code == 422  # how much?
        # A correction: it was lost to clinical pressure after all.
        r = post(client, roster["ben-w1"], ben, outcome="lost_clinical_pressure")
        assert r.status_code == 200 and r.get_json()["attendances"][0]["fraction_taken"] == 0.0
        # The future cannot be recorded yet.
        r = post(client, roster["ben-w2"], ben, outcome="taken")
        assert r.status_code == 422
        assert "not started" in r.get_json()["detail"]
        # Another leader's attendance does not exist as far as Ben is concerned.
        assert post(client, roster["cara-w1"], ben, outcome="taken").status_code == 404
        assert (
            post(client, roster["cara-w1"], login_as("finance"), outcome="taken").status_code == 403
        )
        assert post(client, roster["cara-w1"], ben, outcome="forgot").status_code == 422
        # A rota manager may record for anyone.
        assert (
            post(
                client, roster["cara-w1"], login_as("rota_manager"), outcome="lost_sickness"
            ).status_code
            == 200
        )
    db.session.expire_all()
    assert roster["ben-w1"].outcome == Outcome.LOST_CLINICAL and roster[
        "ben-w1"
    ].recorded_by.startswith("leader")
    assert roster["team-ben"].note == "left at 3"
    assert roster["ben-w2"].outcome is None
    assert roster["cara-w1"].outcome == Outcome.LOST_SICKNESS


def test_the_one_click_link_records_that_attendance_only(
    small: Small, roster: dict[str, Attendance]
) -> None:
    att = roster["cara-w1"]
    token = recording.delivery_link_token(att)
    # the same session always gives the same link
    assert token == recording.delivery_link_token(att)
    with time_machine.travel(AFTER_WEEK_1, tick=False):
        found = recording.attendance_from_link(token)
        assert found.id == att.id
        recording.record_delivery(found, "partial", 0.5, None, CLI_ACTOR)
        db.session.commit()
        # Tampered with, or signed for another purpose: not a link at all.
        with pytest.raises(NotFound):
            tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
            recording.attendance_from_link(tampered)
        forged = URLSafeSerializer("testing", salt="sel-time/feeds").dumps(
            {"a": roster["ben-w1"].id, "p": small.ben, "e": 4102444800}
        )
        with pytest.raises(NotFound):
            recording.attendance_from_link(forged)
    db.session.expire_all()
    assert (att.outcome, att.fraction_taken) == (Outcome.PARTIAL, 0.5)
    others = [a for k, a in roster.items() if k != "cara-w1"]
    assert all(a.outcome is None for a in others)
    # It expires 120 days after the session.
    late = att.session.end_at + timedelta(days=121)
    with time_machine.travel(late, tick=False):
        with pytest.raises(ValidationError) as exc:
            recording.attendance_from_link(token)
        assert exc.value.status == 422 and "expired" in exc.value.detail


def test_the_one_click_page(
    app: Any, small: Small, roster: dict[str, Attendance], client: FlaskClient
) -> None:
    if not any(r.rule.startswith("/record/") for r in app.url_map.iter_rules()):
        pytest.skip("the one-click page is not registered in this build")
    att = roster["cara-w1"]
    token = recording.delivery_link_token(att)
    with time_machine.travel(AFTER_WEEK_1, tick=False):
        assert client.get(f"/record/{token}").status_code == 200
        r = client.post(f"/record/{token}", data={"outcome": "taken"})
        assert r.status_code == 200
        assert client.get(f"/record/{token}x").status_code == 404
    db.session.expire_all()
    assert att.outcome == Outcome.TAKEN
    with time_machine.travel(att.session.end_at + timedelta(days=121), tick=False):
        assert client.post(f"/record/{token}", data={"outcome": "lost_other"}).status_code == 422
    db.session.expire_all()
    assert att.outcome == Outcome.TAKEN


def test_planned_versus_delivered_sums_correctly(
    small: Small,
    roster: dict[str, Attendance],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    outcomes = {
        "ada-w1": ("taken", None),
        "ada-w2": ("partial", 0.5),
        "ben-w1": ("lost_clinical_pressure", None),
        "cara-w1": ("taken", None),
        "team-ben": ("taken", None),
        "team-cara": ("partial", 0.25),
    }
    with time_machine.travel(AFTER_ALL, tick=False):
        for key, (outcome, fraction) in outcomes.items():
            recording.record_delivery(roster[key], outcome, fraction, None, CLI_ACTOR)
        db.session.commit()
        rota = login_as("rota_manager")

        def rows(by: str, headers: dict[str, str] = rota) -> dict[str, dict[str, Any]]:
            r = client.get(f"/api/v1/delivery?by={by}", headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)
            return {row[by]: row for row in r.get_json()["items"]}

        def view(row: dict[str, Any]) -> tuple[Any, ...]:
            return (
                row["sessions_planned"],
                row["hours_planned"],
                row["hours_delivered"],
                row["sessions_lost"],
            )

        by_person = rows("person")
        assert {k: view(v) for k, v in by_person.items()} == {
            "Ada Okafor": (2, 8.0, 6.0, 0),
            "Ben Adeyemi": (3, 12.0, 4.0, 1),
            "Cara Mensah": (2, 8.0, 5.0, 0),
        }
        assert by_person["Ada Okafor"]["delivery_rate"] == 0.75
        assert (
            by_person["Ben Adeyemi"]["sessions_recorded"] == 2
        )  # his week-2 session is not recorded
        assert {k: view(v) for k, v in rows("role").items()} == {
            "Clinical Director": (2, 8.0, 6.0, 0),
            "Deputy Clinical Director": (2, 8.0, 0.0, 1),
            "Director of Nursing": (1, 4.0, 4.0, 0),
            "Team: KCH leadership team": (2, 8.0, 5.0, 0),
        }
        assert {k: view(v) for k, v in rows("profession").items()} == {
            "consultant": (5, 20.0, 10.0, 1),
            "nurse": (2, 8.0, 5.0, 0),
        }
        assert {k: view(v) for k, v in rows("organisation").items()} == {
            "King's College Hospital": (7, 28.0, 15.0, 1)
        }
        assert {k: view(v) for k, v in rows("month").items()} == {
            "2027-04": (5, 20.0, 13.0, 1),
            "2027-05": (2, 8.0, 2.0, 0),
        }
        # A leader sees only their own.
        assert {k: view(v) for k, v in rows("person", login_as("leader", small.cara)).items()} == {
            "Cara Mensah": (2, 8.0, 5.0, 0)
        }
        assert client.get("/api/v1/delivery?by=ward", headers=rota).status_code == 422


def test_a_session_removed_from_the_roster_cannot_be_recorded(
    small: Small,
    roster: dict[str, Attendance],
    solve_plan: Callable[..., Plan],
    make: Callable[..., Any],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    from tests.planning.conftest import add_leave

    att = roster["cara-w1"]
    add_leave(make, small.cara, "2027-04-26", "2027-04-30")  # away all of week 1
    second = solve_plan()
    publish(second.id, CLI_ACTOR)
    db.session.commit()
    db.session.expire_all()
    assert att.session.status.value == "cancelled"
    with time_machine.travel(AFTER_ALL, tick=False):
        r = post(client, att, login_as("leader", small.cara), outcome="taken")
    assert r.status_code == 422 and "removed" in r.get_json()["detail"]
