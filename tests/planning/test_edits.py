"""Hand edits of a draft: every one is checked against the hard rules and refused in words a
rota manager understands; what is left still passes the solver's own checker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from sel_time.models import Plan
from sel_time.plans.planning import slot_label
from tests.planning.conftest import Small


def sessions(client: FlaskClient, plan_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/plans/{plan_id}/sessions", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["items"]


def messages(r: Any) -> list[str]:
    return [e["message"] for e in r.get_json().get("errors", [])]


def test_a_move_that_breaks_the_department_cap_is_refused(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan = solve_plan()
    items = sessions(client, plan.id, rota)
    problem = plan.problem
    ben_free = set(next(p for p in problem["people"] if p["name"] == "Ben Adeyemi")["available"])
    ada_slot = next(
        s["slot"] for s in items if s["person_id"] == small.ada and s["slot"] in ben_free
    )
    ben = next(
        s
        for s in items
        if s["person_id"] == small.ben and s["slot"][:10] <= "2027-05-02" and s["slot"] != ada_slot
    )
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{ben['id']}", json={"slot": ada_slot}, headers=rota
    )
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    expected = f"Emergency Department already has 1 of 1 people away on {slot_label(ada_slot)}"
    assert expected in messages(r)
    assert slot_label("2027-04-27/AM") == "Tue 27 Apr AM"
    # Nothing changed.
    assert sessions(client, plan.id, rota) == items


def test_an_add_that_breaks_the_cap_is_refused(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan = solve_plan()
    items = sessions(client, plan.id, rota)
    ben_week1 = next(s for s in items if s["person_id"] == small.ben and s["slot"] < "2027-05")
    ada_week1 = next(s for s in items if s["person_id"] == small.ada and s["slot"] < "2027-05")
    assert (
        client.delete(
            f"/api/v1/plans/{plan.id}/sessions/{ben_week1['id']}", headers=rota
        ).status_code
        == 204
    )
    r = client.post(
        f"/api/v1/plans/{plan.id}/sessions",
        json={"assignment_id": small.ben_assignment, "slot": ada_week1["slot"]},
        headers=rota,
    )
    assert r.status_code == 422
    assert (
        f"Emergency Department already has 1 of 1 people away on {slot_label(ada_week1['slot'])}"
        in messages(r)
    )


def test_moving_into_leave_or_a_busy_slot_or_a_full_window_is_refused(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan = solve_plan()
    items = sessions(client, plan.id, rota)
    cara = next(s for s in items if s["person_id"] == small.cara)
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}",
        json={"slot": "2027-05-04/AM"},
        headers=rota,
    )
    assert r.status_code == 422
    assert any("Cara Mensah is not available on Tue 4 May AM" in m for m in messages(r))
    # Not a session of the horizon (the bank holiday).
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}",
        json={"slot": "2027-05-03/AM"},
        headers=rota,
    )
    assert r.status_code == 422
    # Busy: the team meets on Thursday afternoon with Cara among its attendees.
    team = next(s for s in items if s["kind"] == "team")
    if small.cara in team["attendees"]:
        r = client.patch(
            f"/api/v1/plans/{plan.id}/sessions/{cara['id']}",
            json={"slot": team["slot"]},
            headers=rota,
        )
        assert r.status_code == 422
        busy = f"Cara Mensah would have 2 protected activities on {slot_label(team['slot'])}: "
        assert any(m.startswith(busy) for m in messages(r))
    # A second session in a window that asks for (at most) one.
    ada = next(s for s in items if s["person_id"] == small.ada and s["slot"] < "2027-05")
    r = client.post(
        f"/api/v1/plans/{plan.id}/sessions",
        json={"assignment_id": small.ada_assignment, "slot": "2027-04-26/AM"},
        headers=rota,
    )
    assert r.status_code == 422
    assert any("Clinical Director" in m and "more than its maximum of 1" in m for m in messages(r))
    assert ada in sessions(client, plan.id, rota)


def test_move_pins_and_unpin_remove(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan = solve_plan()
    items = sessions(client, plan.id, rota)
    cara = next(s for s in items if s["person_id"] == small.cara)
    busy = {
        s["slot"] for s in items if small.cara in s["attendees"] or s["person_id"] == small.cara
    }
    target = next(
        f"2027-04-{d}/{h}"
        for d in (26, 27, 28)
        for h in ("AM", "PM")
        if f"2027-04-{d}/{h}" not in busy
    )
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"slot": target}, headers=rota
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    moved = r.get_json()
    assert (moved["slot"], moved["pinned"], moved["origin"], moved["cost"]) == (
        target,
        True,
        "manual",
        320.0,
    )
    # Pinned: it cannot be removed until unpinned.
    r = client.delete(f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", headers=rota)
    assert r.status_code == 409
    assert "Unpin" in r.get_json()["detail"]
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"pinned": False}, headers=rota
    )
    assert r.status_code == 200 and r.get_json()["pinned"] is False
    r = client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"pinned": True}, headers=rota
    )
    assert r.get_json()["pinned"] is True
    client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"pinned": False}, headers=rota
    )
    assert (
        client.delete(f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", headers=rota).status_code
        == 204
    )
    assert cara["id"] not in {s["id"] for s in sessions(client, plan.id, rota)}
    summary = client.get(f"/api/v1/plans/{plan.id}", headers=rota).get_json()
    assert summary["edits"] == 5


def test_leaders_and_finance_cannot_edit(
    small: Small,
    solve_plan: Callable[..., Plan],
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
) -> None:
    plan = solve_plan()
    leader = login_as("leader", small.ada)
    finance = login_as("finance")
    sid = plan.sessions[0].id
    for headers in (leader, finance):
        r = client.patch(
            f"/api/v1/plans/{plan.id}/sessions/{sid}", json={"pinned": True}, headers=headers
        )
        assert r.status_code == 403
        assert (
            client.delete(f"/api/v1/plans/{plan.id}/sessions/{sid}", headers=headers).status_code
            == 403
        )
        assert client.post(f"/api/v1/plans/{plan.id}/publish", headers=headers).status_code == 403


def test_the_checker_passes_on_a_fresh_plan_and_after_hand_edits(
    small: Small,
    solve_plan: Callable[..., Plan],
    client: FlaskClient,
    rota: dict[str, str],
    export_and_check: Callable[[str], Any],
    tmp_path: Any,
) -> None:
    plan = solve_plan()
    _, fresh = export_and_check(str(plan.id))
    assert fresh["status"] in ("optimal", "feasible")
    assert fresh["objective"] == plan.objective
    items = sessions(client, plan.id, rota)
    # A move: Cara's week-1 session to Monday morning (or Tuesday if that is where it is).
    cara = next(s for s in items if s["person_id"] == small.cara)
    target = "2027-04-26/AM" if cara["slot"] != "2027-04-26/AM" else "2027-04-27/AM"
    assert (
        client.patch(
            f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"slot": target}, headers=rota
        ).status_code
        == 200
    )
    # An add: Ben's week-2 session removed by the solver's hand and added back by ours elsewhere.
    ben2 = next(s for s in items if s["person_id"] == small.ben and s["slot"] >= "2027-05")
    assert (
        client.delete(f"/api/v1/plans/{plan.id}/sessions/{ben2['id']}", headers=rota).status_code
        == 204
    )
    taken = {
        s["slot"]
        for s in sessions(client, plan.id, rota)
        if small.ben in s["attendees"] or s["person_id"] in (small.ben, small.ada)
    }
    slot = next(
        f"2027-05-0{d}/{h}"
        for d in (4, 5, 6)
        for h in ("AM", "PM")
        if f"2027-05-0{d}/{h}" not in taken
    )
    r = client.post(
        f"/api/v1/plans/{plan.id}/sessions",
        json={"assignment_id": small.ben_assignment, "slot": slot},
        headers=rota,
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    problem, edited = export_and_check(str(plan.id))
    assert edited["status"] == "feasible"
    assert (small.cara, target) in {(int(s["person"][1:]), s["slot"]) for s in edited["sessions"]}
    assert (small.ben, slot) in {(int(s["person"][1:]), s["slot"]) for s in edited["sessions"]}
    # And the same through `python -m solver check` on the files export-plan wrote.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "solver",
            "check",
            str(tmp_path / f"problem-{plan.id}.json"),
            str(tmp_path / f"solution-{plan.id}.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / f"problem-{plan.id}.json").read_text()) == problem


def test_pins_lifted_after_a_resolve_no_longer_bind_the_exported_problem(
    small: Small,
    solve_plan: Callable[..., Plan],
    client: FlaskClient,
    rota: dict[str, str],
    export_and_check: Callable[[str], Any],
) -> None:
    plan = solve_plan()
    items = sessions(client, plan.id, rota)
    team = next(s for s in items if s["kind"] == "team")
    cara = next(s for s in items if s["person_id"] == small.cara)
    for s in (team, cara):
        assert (
            client.patch(
                f"/api/v1/plans/{plan.id}/sessions/{s['id']}", json={"pinned": True}, headers=rota
            ).status_code
            == 200
        )
    assert (
        client.post(
            f"/api/v1/plans/{plan.id}/resolve", json={"time_limit": 5}, headers=rota
        ).status_code
        == 202
    )
    problem, _ = export_and_check(str(plan.id))
    assert len(problem["pinned"]) == 2
    items = sessions(client, plan.id, rota)
    team = next(s for s in items if s["kind"] == "team")
    cara = next(s for s in items if s["person_id"] == small.cara)
    assert team["pinned"] and cara["pinned"]
    # The manager lifts the team's pin and cancels the meeting, and moves Cara's session.
    client.patch(
        f"/api/v1/plans/{plan.id}/sessions/{team['id']}", json={"pinned": False}, headers=rota
    )
    assert (
        client.delete(f"/api/v1/plans/{plan.id}/sessions/{team['id']}", headers=rota).status_code
        == 204
    )
    target = "2027-04-26/AM" if cara["slot"] != "2027-04-26/AM" else "2027-04-27/AM"
    assert (
        client.patch(
            f"/api/v1/plans/{plan.id}/sessions/{cara['id']}", json={"slot": target}, headers=rota
        ).status_code
        == 200
    )
    problem, solution = export_and_check(str(plan.id))
    assert problem["pinned"] == [
        {"person": f"p{small.cara}", "commitment": f"a{small.cara_assignment}", "slot": target}
    ]
    assert solution["team_sessions"] == []
