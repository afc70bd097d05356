"""Races (issue 19, finding 8): two rota managers, two publishes or two leave requests at the
same moment never leave the roster breaking a hard rule, a session live twice, or overlapping
leave. The race tests run two requests in two threads, each with its own connection, and hold
both at a barrier just after the service's own check, where the race used to be; a request
that must wait for the other (a row or advisory lock) lets the barrier time out after a
generous 3 s instead.

On PostgreSQL (``DATABASE_URL``) the second request waits for the first and then sees its
work: a move is refused by the cover cap, a publish builds on the other, leave is refused by
the exclusion constraint. SQLite keeps one writer at a time: the second request's write,
made on a picture that is no longer true, is refused: a 409 "at the same moment" when the first
has committed, a 503 "busy saving another change" while it is still writing."""
from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

import solver
from sel_time.core.extensions import db
from sel_time.directory import records
from sel_time.models import (
    Absence,
    Plan,
    PlanStatus,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
)
from sel_time.plans import planning, publishing
from sel_time.plans.planning import plan_as_solution, slot_label
from tests.planning.conftest import START, Small

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
SAME_MOMENT = "Another change to the same records was saved at the same moment"
BUSY = "The database is busy saving another change; nothing was saved"


def lost_on_sqlite(responses: list[Any], won: int) -> None:
    """SQLite: one request went through, the other was refused in words, nothing saved."""
    codes = sorted(r.status_code for r in responses)
    assert codes in ([won, 409], [won, 503]), [r.get_data() for r in responses]
    refused = next(r for r in responses if r.status_code in (409, 503))
    assert refused.get_json()["detail"].startswith(SAME_MOMENT if codes[1] == 409 else BUSY)
BARRIER_WAIT = 3.0  # seconds; generous: only a request blocked by the other's lock times out


def at_barrier(barrier: threading.Barrier) -> None:
    try:
        barrier.wait(timeout=BARRIER_WAIT)
    except threading.BrokenBarrierError:  # the other request is waiting for our lock
        pass


def side_by_side(app: Flask, *calls: Callable[[FlaskClient], Any]) -> list[Any]:
    """Run each call in its own thread with its own test client (so its own session and
    database connection); return their responses in order."""
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            out[i] = calls[i](app.test_client())
        except BaseException as exc:  # reported by the test, not lost in the thread
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for r in out:
        if isinstance(r, BaseException):
            raise r
    return out


def messages(r: Any) -> list[str]:
    return [e["message"] for e in r.get_json().get("errors", [])]


def free_ed_slot(plan: Plan, small: Small) -> tuple[str, int, int]:
    """A week-1 slot where nobody of the Emergency Department is away and both Ada and Ben
    could go, and an individual week-1 session of each to move there."""
    people = {p["id"]: p for p in plan.problem["people"]}
    busy = {(pid, s.slot) for s in plan.sessions
            for pid in ([s.person_id] if s.person_id
                        else [a.person_id for a in s.attendees if a.attending])}
    ed_away = {slot for pid, slot in busy if pid in (small.ada, small.ben)}
    both = set(people[f"p{small.ada}"]["available"]) & set(people[f"p{small.ben}"]["available"])
    week1 = sorted(s for s in both if s < "2027-05" and s not in ed_away)
    ada = next(s for s in plan.sessions if s.person_id == small.ada and s.slot < "2027-05")
    ben = next(s for s in plan.sessions if s.person_id == small.ben and s.slot < "2027-05")
    assert week1, "the small system has a free ED slot in week 1"
    return week1[0], ada.id, ben.id


def test_two_moves_into_one_capped_slot_at_once_let_exactly_one_through(
        app: Flask, small: Small, solve_plan: Callable[..., Plan],
        login_as: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    plan = solve_plan()
    slot, ada_session, ben_session = free_ed_slot(plan, small)
    plan_id = plan.id
    first, second = login_as("rota_manager"), login_as("rota_manager")
    db.session.commit()
    barrier = threading.Barrier(2)
    checked = planning.check_individual

    def check_then_wait(*args: Any, **kwargs: Any) -> None:
        checked(*args, **kwargs)
        at_barrier(barrier)  # both have checked the plan as they saw it: now both write

    monkeypatch.setattr(planning, "check_individual", check_then_wait)
    url = f"/api/v1/plans/{plan_id}/sessions/"
    r1, r2 = side_by_side(
        app,
        lambda c: c.patch(url + str(ada_session), json={"slot": slot}, headers=first),
        lambda c: c.patch(url + str(ben_session), json={"slot": slot}, headers=second))
    if POSTGRES:  # the second waited for the first and checked its move against it
        codes = sorted([r1.status_code, r2.status_code])
        assert codes == [200, 422], (r1.get_data(), r2.get_data())
        refused = r1 if r1.status_code == 422 else r2
        assert (f"Emergency Department already has 1 of 1 people away on {slot_label(slot)}"
                in messages(refused))
    else:
        lost_on_sqlite([r1, r2], 200)
    db.session.expire_all()
    plan = db.session.get(Plan, plan_id)
    verdict = solver.check(solver.parse_problem(plan.problem), plan_as_solution(plan))
    assert verdict.ok, verdict.violations  # what `python -m solver check` on export-plan says


def move_every_session_elsewhere(plan: Plan, other: Plan) -> None:
    """Edit ``plan`` so that it shares no (assignment or team, slot) with ``other``: the two
    publishes then add different sessions for the same people, nothing a unique key on the
    session's identity could catch."""
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.errors import SelTimeError

    taken = {(s.assignment_id, s.team_id, s.slot) for s in other.sessions}
    for s in list(plan.sessions):
        if s.team_id is not None:
            planning.remove_session(plan.id, s.id, CLI_ACTOR)
            continue
        person = next(p for p in plan.problem["people"] if p["id"] == f"p{s.person_id}")
        week = s.slot[:8]  # the same ISO week is near enough: try that month's slots in order
        for slot in sorted(person["available"], key=lambda x: (not x.startswith(week), x)):
            if (s.assignment_id, None, slot) in taken or slot == s.slot:
                continue
            try:
                with db.session.begin_nested():
                    planning.move_session(plan.id, s.id, slot, CLI_ACTOR)
                break
            except SelTimeError:
                continue
    db.session.commit()
    assert not taken & {(s.assignment_id, s.team_id, s.slot) for s in plan.sessions}


def test_two_publishes_at_once_never_leave_a_session_live_twice(
        app: Flask, small: Small, solve_plan: Callable[..., Plan],
        login_as: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    system = solve_plan()
    trust = solve_plan(scope="organisation:kch")  # the same people, planned by their trust
    move_every_session_elsewhere(trust, system)
    wanted = {p.id: Counter((s.assignment_id, s.team_id) for s in p.sessions)
              for p in (system, trust)}
    ids = system.id, trust.id
    first, second = login_as("rota_manager"), login_as("rota_manager")
    db.session.commit()
    barrier = threading.Barrier(2)
    apply = publishing._apply

    def wait_then_apply(*args: Any, **kwargs: Any) -> None:
        at_barrier(barrier)  # both have their plan; neither has read the live roster yet
        apply(*args, **kwargs)

    monkeypatch.setattr(publishing, "_apply", wait_then_apply)
    r1, r2 = side_by_side(
        app,
        lambda c: c.post(f"/api/v1/plans/{ids[0]}/publish", headers=first),
        lambda c: c.post(f"/api/v1/plans/{ids[1]}/publish", headers=second))
    # PostgreSQL: neither is refused for the other's work. SQLite: the second is refused in
    # words. Either way the roster is one plan's, never both.
    if POSTGRES:
        assert (r1.status_code, r2.status_code) == (200, 200), (r1.get_data(), r2.get_data())
    else:
        lost_on_sqlite([r1, r2], 200)
    db.session.expire_all()
    live = db.session.scalars(sa.select(ProtectedSession).where(
        ProtectedSession.status == RosterStatus.CONFIRMED)).all()
    per_owner = Counter((s.assignment_id, s.team_id) for s in live)
    assert per_owner in wanted.values(), (per_owner, wanted)
    assert len({(s.assignment_id, s.team_id, s.slot) for s in live}) == len(live)


@pytest.mark.parametrize("collection, body, field", [
    pytest.param("absences",
                 {"kind": "annual", "start_date": "2027-06-07", "end_date": "2027-06-11"},
                 "start_date", id="leave"),
    pytest.param("assignments", {"start_date": "2027-06-01"}, "start_date", id="role-holding"),
])
def test_two_overlapping_posts_at_once_let_exactly_one_in(
        app: Flask, small: Small, login_as: Callable[..., dict[str, str]],
        monkeypatch: pytest.MonkeyPatch, collection: str, body: dict[str, str], field: str) -> None:
    body = {**body, "person_id": small.ada}
    second_body = dict(body)
    if collection == "assignments":
        body["role_id"] = second_body["role_id"] = small.ben_role  # Ada does not hold it yet
        second_body["start_date"] = "2027-09-01"  # open-ended: overlaps the first from September
    else:
        second_body.update(start_date="2027-06-10", end_date="2027-06-14")
    admin = login_as("admin")
    db.session.commit()
    barrier = threading.Barrier(2)
    check_unique = records._check_unique

    def check_then_wait(entity: Any, obj: Any) -> None:
        check_unique(entity, obj)
        if entity.name == collection:
            at_barrier(barrier)  # both have looked for an overlap and found none

    monkeypatch.setattr(records, "_check_unique", check_then_wait)
    r1, r2 = side_by_side(
        app,
        lambda c: c.post(f"/api/v1/{collection}", json=body, headers=admin),
        lambda c: c.post(f"/api/v1/{collection}", json=second_body, headers=admin))
    if POSTGRES:  # the exclusion constraint refused the second, naming the field
        codes = sorted([r1.status_code, r2.status_code])
        assert codes == [201, 409], (r1.get_data(), r2.get_data())
        refused = r1 if r1.status_code == 409 else r2
        assert refused.mimetype == "application/problem+json"
        assert [e["field"] for e in refused.get_json()["errors"]] == [field]
    else:
        lost_on_sqlite([r1, r2], 201)
    db.session.expire_all()
    if collection == "absences":
        rows = db.session.scalars(sa.select(Absence).where(
            Absence.person_id == small.ada, Absence.start_date >= START)).all()
    else:
        rows = db.session.scalars(sa.select(RoleAssignment).where(
            RoleAssignment.person_id == small.ada, RoleAssignment.role_id == small.ben_role)).all()
    assert len(rows) == 1


# -- SQLite too ---------------------------------------------------------------------------------


def put_both_in(plan: Plan, slot: str, *session_ids: int) -> None:
    """Move sessions behind the edit checks' back (what racing edits used to leave)."""
    start, end = planning.slot_times(slot, planning.Calendar.from_config())
    for s in plan.sessions:
        if s.id in session_ids:
            s.slot, s.start_at, s.end_at = slot, start, end


def test_a_plan_that_breaks_a_hard_rule_is_not_published(
        small: Small, solve_plan: Callable[..., Plan], client: FlaskClient,
        rota: dict[str, str]) -> None:
    """What two racing edits used to leave behind: Ada and Ben both away from the Emergency
    Department (cap 1) in one slot. The publish re-checks the whole plan and refuses it."""
    plan = solve_plan()
    slot, ada_session, ben_session = free_ed_slot(plan, small)
    put_both_in(plan, slot, ada_session, ben_session)
    db.session.commit()
    r = client.post(f"/api/v1/plans/{plan.id}/publish", headers=rota)
    assert r.status_code == 409, r.get_data(as_text=True)
    assert r.get_json()["detail"] == f"Plan {plan.id} breaks 1 hard rule; nothing was published"
    assert messages(r) == [f"2 of Emergency Department away in {slot_label(slot)}, above its cap "
                           "of 1 (rule 4): Ada Okafor, Ben Adeyemi"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ProtectedSession.id))) == 0
    assert db.session.get(Plan, plan.id).status == PlanStatus.DRAFT


def test_a_session_cannot_be_live_twice_in_one_slot(
        small: Small, solve_plan: Callable[..., Plan], client: FlaskClient,
        rota: dict[str, str]) -> None:
    plan = solve_plan()
    assert client.post(f"/api/v1/plans/{plan.id}/publish", headers=rota).status_code == 200
    db.session.expire_all()
    live = db.session.scalars(sa.select(ProtectedSession).where(
        ProtectedSession.assignment_id.is_not(None))).first()
    assert live is not None

    def copy(status: RosterStatus, uid: str) -> ProtectedSession:
        return ProtectedSession(uid=uid, person_id=live.person_id, assignment_id=live.assignment_id,
                                slot=live.slot, start_at=live.start_at, end_at=live.end_at,
                                status=status, sequence=0, plan_id=plan.id,
                                published_at=live.published_at, last_modified=live.last_modified)

    with db.session.begin_nested():  # a cancelled one in the same slot is history: allowed
        db.session.add(copy(RosterStatus.CANCELLED, "cancelled@test"))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        with db.session.begin_nested():
            db.session.add(copy(RosterStatus.CONFIRMED, "twice@test"))
    from sel_time.core.errors import race_conflict  # here: the other tests also run on older code

    conflict = race_conflict(caught.value)
    assert conflict is not None and conflict.status == 409
    assert conflict.errors[0].field == "plan"
    assert "publish again" in conflict.detail


def test_the_plan_page_says_which_rule_a_refused_publish_breaks(
        app: Flask, small: Small, solve_plan: Callable[..., Plan]) -> None:
    import re

    from sel_time.models import User, UserRole

    plan = solve_plan()
    slot, ada_session, ben_session = free_ed_slot(plan, small)
    put_both_in(plan, slot, ada_session, ben_session)
    user = User(email="rota@races.test", name="Rota Manager", role=UserRole.ROTA_MANAGER)
    db.session.add(user)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    page = client.get(f"/manage/plans/{plan.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    r = client.post(f"/manage/plans/{plan.id}/publish", data={"csrf_token": token.group(1)},
                    follow_redirects=True)
    text = r.get_data(as_text=True)
    assert f"Plan {plan.id} breaks 1 hard rule; nothing was published" in text
    assert "above its cap of 1 (rule 4): Ada Okafor, Ben Adeyemi" in text
    assert db.session.scalar(sa.select(sa.func.count(ProtectedSession.id))) == 0
