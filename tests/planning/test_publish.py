"""Publishing: the reviewed plan becomes the roster leaders see, atomically, with stable
identities, rising sequence numbers and costs fixed when published."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.models import (
    AuditEvent,
    Plan,
    PlanStatus,
    ProtectedSession,
    RateCardEntry,
    RosterStatus,
)
from sel_time.plans import publishing
from sel_time.plans.publishing import publish
from tests.planning.conftest import Small, add_leave, roster_snapshot


def by_owner_slot() -> dict[tuple[Any, ...], ProtectedSession]:
    db.session.expire_all()
    return {
        (s.assignment_id, s.team_id, s.slot): s
        for s in db.session.scalars(sa.select(ProtectedSession))
    }


def plan_keys(plan: Plan) -> set[tuple[Any, ...]]:
    """(assignment, team, slot, attendees) of each of the plan's sessions."""
    return {
        (
            s.assignment_id,
            s.team_id,
            s.slot,
            tuple(sorted(a.person_id for a in s.attendees if a.attending))
            if s.team_id
            else (s.person_id,),
        )
        for s in plan.sessions
    }


def test_publishing_twice_changes_nothing(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    plan = solve_plan()
    first = client.post(f"/api/v1/plans/{plan.id}/publish", headers=rota)
    assert first.status_code == 200, first.get_data(as_text=True)
    report = first.get_json()
    assert report["added"] == len(plan.sessions) and report["already_published"] is False
    before = roster_snapshot()
    assert len(before) == len(plan.sessions)
    assert {v[1:3] for v in before.values()} == {("confirmed", 0)}
    second = client.post(f"/api/v1/plans/{plan.id}/publish", headers=rota)
    assert second.status_code == 200
    assert second.get_json()["already_published"] is True
    assert second.get_json()["added"] == second.get_json()["changed"] == 0
    assert roster_snapshot() == before
    audit = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == "publish",
            AuditEvent.entity == "plan",
            AuditEvent.entity_id == str(plan.id),
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [a.new["already_published"] for a in audit] == [False, True]
    assert (
        publishing.publish(plan.id, CLI_ACTOR).summary()
        == f"Plan {plan.id} is already published; nothing changed"
    )
    db.session.commit()
    assert roster_snapshot() == before


def test_republishing_keeps_identity_bumps_sequence_and_cancels(
    small: Small, solve_plan: Callable[..., Plan], make: Callable[..., Any]
) -> None:
    first = solve_plan()
    publish(first.id, CLI_ACTOR)
    db.session.commit()
    old = by_owner_slot()
    ada_w1 = next(s for s in first.sessions if s.person_id == small.ada and s.slot < "2027-05")
    cara_w1 = next(s for s in first.sessions if s.person_id == small.cara)
    # Ada is off sick the day of her session; Cara is away all of week 1 too.
    add_leave(make, small.ada, ada_w1.slot[:10])
    add_leave(make, small.cara, "2027-04-26", "2027-04-30")
    second = solve_plan()
    report = publish(second.id, CLI_ACTOR)
    db.session.commit()
    new = by_owner_slot()
    assert report.moved >= 1 and report.cancelled >= 1

    moved_from = old[(small.ada_assignment, None, ada_w1.slot)]
    ada_new_slot = next(
        s.slot for s in second.sessions if s.person_id == small.ada and s.slot < "2027-05"
    )
    row = db.session.get(ProtectedSession, moved_from.id)
    assert (row.slot, row.status, row.sequence) == (ada_new_slot, RosterStatus.CONFIRMED, 1)
    assert row.uid == moved_from.uid  # the calendar event is updated, not replaced

    cancelled = new[(small.cara_assignment, None, cara_w1.slot)]
    assert (cancelled.status, cancelled.sequence) == (RosterStatus.CANCELLED, 1)

    # Every session that stayed in its slot with the same people kept its UID and sequence.
    kept = plan_keys(first) & plan_keys(second)
    assert kept
    for assignment, team, slot, _ in kept:
        s = new[(assignment, team, slot)]
        assert (s.status, s.sequence) == (RosterStatus.CONFIRMED, 0)
        assert s.uid == old[(assignment, team, slot)].uid
    assert db.session.get(Plan, first.id).status == PlanStatus.SUPERSEDED
    assert db.session.get(Plan, second.id).status == PlanStatus.PUBLISHED


def test_cost_is_fixed_when_published(
    small: Small, solve_plan: Callable[..., Plan], make: Callable[..., Any]
) -> None:
    plan = solve_plan()
    publish(plan.id, CLI_ACTOR)
    db.session.commit()
    before = roster_snapshot()
    cara_costs = {a[1] for v in before.values() for a in v[3] if a[0] == small.cara}
    assert cara_costs == {32000}
    for rate in db.session.scalars(sa.select(RateCardEntry)):
        rate.rate_pence_per_hour *= 2  # a pay award doubles every rate
    db.session.commit()
    assert roster_snapshot() == before
    # A new plan prices at the new rates, but what was published stays as it was priced.
    add_leave(make, small.ada, "2027-05-05")  # a change elsewhere, so the publish does something
    second = solve_plan()
    assert {s.cost_pence for s in second.sessions if s.person_id == small.cara} == {64000}
    publish(second.id, CLI_ACTOR)
    db.session.commit()
    after = roster_snapshot()
    kept = 0
    for uid, (slot, _, _, atts) in before.items():
        if after[uid][0] == slot and after[uid][1] == "confirmed":
            now = dict(after[uid][3])
            assert all(now[p] == cost for p, cost in atts if p in now), (uid, atts, now)
            kept += 1
    assert kept >= 3
    assert {
        a[1] for v in after.values() if v[1] == "confirmed" for a in v[3] if a[0] == small.cara
    } == {32000}


def test_resolving_after_new_leave_changes_only_that_leaders_sessions(
    small: Small, solve_plan: Callable[..., Plan], make: Callable[..., Any]
) -> None:
    first = solve_plan()
    publish(first.id, CLI_ACTOR)
    db.session.commit()
    ada_slots = [s.slot for s in first.sessions if s.person_id == small.ada]
    for slot in ada_slots:  # sick on both days of her published sessions
        add_leave(make, small.ada, slot[:10])
    second = solve_plan()
    assert second.problem["previous"], "the published roster is the previous plan"
    changed = plan_keys(first) ^ plan_keys(second)
    assert changed

    def involves_ada(key: tuple[Any, ...]) -> bool:
        assignment, team, _, people = key
        return assignment == small.ada_assignment or (team is not None and small.ada in people)

    # Ada's sessions moved; nobody else's did — except a team meeting she attends, which it forces.
    assert all(involves_ada(k) for k in changed), changed
    assert {k[2] for k in plan_keys(second) if k[0] == small.ada_assignment}.isdisjoint(ada_slots)
    report = publish(second.id, CLI_ACTOR)
    db.session.commit()
    assert report.people <= {small.ada} | (
        {small.ben, small.cara} if any(k[1] for k in changed) else set()
    )
    assert report.cancelled == 0 and report.moved == 2


def test_a_crash_during_publish_leaves_the_previous_roster_intact(
    small: Small,
    solve_plan: Callable[..., Plan],
    make: Callable[..., Any],
    client: FlaskClient,
    rota: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = solve_plan()
    assert client.post(f"/api/v1/plans/{first.id}/publish", headers=rota).status_code == 200
    add_leave(make, small.ada, "2027-04-26", "2027-04-30")
    add_leave(make, small.ben, "2027-05-04", "2027-05-06")
    second = solve_plan()
    before = roster_snapshot()
    attendance_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(sa.text("attendance"))
    )
    real = publishing._sync_attendance
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the database server went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(publishing, "_sync_attendance", flaky)
    r = client.post(f"/api/v1/plans/{second.id}/publish", headers=rota)
    assert r.status_code == 500
    assert calls["n"] == 3
    assert roster_snapshot() == before
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("attendance")))
        == attendance_count
    )
    assert db.session.get(Plan, second.id).status == PlanStatus.DRAFT
    assert db.session.get(Plan, first.id).status == PlanStatus.PUBLISHED
    monkeypatch.setattr(publishing, "_sync_attendance", real)
    r = client.post(f"/api/v1/plans/{second.id}/publish", headers=rota)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert roster_snapshot() != before
    assert db.session.get(Plan, second.id).status == PlanStatus.PUBLISHED


def test_only_a_draft_can_be_published(
    small: Small, solve_plan: Callable[..., Plan], client: FlaskClient, rota: dict[str, str]
) -> None:
    from sel_time.plans.planning import request_plan
    from tests.planning.conftest import START

    queued = request_plan(START, 1, "team:kch-lt", 5, CLI_ACTOR)
    db.session.commit()
    r = client.post(f"/api/v1/plans/{queued.id}/publish", headers=rota)
    assert r.status_code == 409
    assert client.post("/api/v1/plans/9999/publish", headers=rota).status_code == 404


def test_publishing_a_team_plan_leaves_other_sessions_alone(
    small: Small, solve_plan: Callable[..., Plan], make: Callable[..., Any]
) -> None:
    first = solve_plan()
    publish(first.id, CLI_ACTOR)
    db.session.commit()
    before = by_owner_slot()
    team_w1 = next(s for s in first.sessions if s.team_id)
    attendee = next(a.person_id for a in team_w1.attendees if a.attending)
    add_leave(make, attendee, team_w1.slot[:10])
    team_plan = solve_plan(scope="team:kch-lt")
    assert team_plan.problem["commitments"] == []
    # The individual sessions already published keep their people busy and use the cover.
    report = publish(team_plan.id, CLI_ACTOR)
    db.session.commit()
    after = by_owner_slot()
    for key, s in before.items():
        if s.team_id is None:
            assert after[key].status == RosterStatus.CONFIRMED and after[key].sequence == 0
            assert after[key].plan_id == first.id
    assert report.added + report.changed + report.moved + report.cancelled >= 1
    assert db.session.get(Plan, first.id).status == PlanStatus.PUBLISHED  # another scope
    assert attendee not in {
        a.person_id
        for s in after.values()
        if s.team_id and s.slot == team_w1.slot and s.status == RosterStatus.CONFIRMED
        for a in s.attendances
    }


def test_sessions_of_a_role_that_ended_are_cancelled_on_the_next_publish(
    small: Small, solve_plan: Callable[..., Plan]
) -> None:
    from sel_time.models import RoleAssignment

    first = solve_plan()
    publish(first.id, CLI_ACTOR)
    db.session.commit()
    # Ben steps down before the horizon starts.
    db.session.get(RoleAssignment, small.ben_assignment).end_date = first.start_date.replace(day=1)
    db.session.commit()
    second = solve_plan()
    assert not any(s.assignment_id == small.ben_assignment for s in second.sessions)
    # His old sessions are neither asked to be kept nor block the slots and cover they held.
    assert not any(e.get("person") == f"p{small.ben}" for e in second.problem["previous"])
    report = publish(second.id, CLI_ACTOR)
    db.session.commit()
    live = [s for s in by_owner_slot().values() if s.status == RosterStatus.CONFIRMED]
    assert not any(s.assignment_id == small.ben_assignment for s in live)
    assert report.cancelled >= 2


@pytest.mark.parametrize("churn, moves", [(50.0, True), (200.0, False)])
def test_a_published_session_moves_only_for_a_saving_above_the_churn_weight(
    app: Any,
    small: Small,
    solve_plan: Callable[..., Plan],
    make: Callable[..., Any],
    churn: float,
    moves: bool,
) -> None:
    """Each re-solve pays ``CHURN_WEIGHT`` for every published session it moves: a slot that
    became £160 cheaper takes Ben's session at the solver's £50, not at sel-time's £200."""
    from sel_time.directory import records
    from sel_time.models import Person

    app.config["CHURN_WEIGHT"] = churn
    ben = db.session.get(Person, small.ben)
    assert ben is not None
    records.update(
        records.ENTITIES["people"], ben, {"backfill_rate": "40.00"}, CLI_ACTOR
    )  # £160 a session
    db.session.commit()
    first = solve_plan()
    assert first.problem["weights"] == {"churn": churn, "fairness": app.config["FAIRNESS_WEIGHT"]}
    publish(first.id, CLI_ACTOR)
    db.session.commit()
    published = {s.slot for s in first.sessions if s.person_id == small.ben}
    assert len(published) == 2  # one a week
    # Ben's pattern changes: a half-day that holds nobody's ED session becomes non-clinical
    # (no backfill), in both weeks.
    taken = {
        (s.slot[:10], s.slot[-2:]) for s in first.sessions if s.person_id in (small.ada, small.ben)
    }
    days = {
        "2027-04-26": "Mon",
        "2027-04-27": "Tue",
        "2027-04-28": "Wed",
        "2027-05-04": "Tue",
        "2027-05-05": "Wed",
    }
    used = {(days[d], h) for d, h in taken if d in days}
    free = next((d, h) for d in ("Mon", "Tue", "Wed") for h in ("AM", "PM") if (d, h) not in used)
    pattern = [
        {"day": d, "half": h, "kind": "non_clinical" if (d, h) == free else "clinical"}
        for d in ("Mon", "Tue", "Wed", "Thu")
        for h in ("AM", "PM")
    ]
    records.update(records.ENTITIES["people"], ben, {"pattern": pattern}, CLI_ACTOR)
    db.session.commit()
    second = solve_plan()
    now = {s.slot for s in second.sessions if s.person_id == small.ben}
    if moves:
        from datetime import date

        assert now != published
        assert all(
            (date.fromisoformat(s[:10]).strftime("%a"), s[-2:]) == free for s in now - published
        )
    else:
        assert now == published
