"""What-if runs: a what-if is queued (202), run outside the request and recorded with its
progress through the two solves, its result or why it failed; the browser follows it on a page
with a progress bar. Bad requests are refused at once (422 naming the field) and queue nothing;
leaders may not run one; the published roster is never touched."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.security import generate_password_hash

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.finance import whatif
from sel_time.finance.schemas import WhatIfRequest
from sel_time.finance.whatif import request_whatif, run_whatif_run
from sel_time.models import (
    Attendance,
    AuditEvent,
    ProtectedSession,
    User,
    UserRole,
    WhatIfRun,
    WhatIfStatus,
)
from tests.finance.conftest import Directory, Ledger

PROBLEM = "application/problem+json"
BODY = {"start": "2026-12-28", "weeks": 2, "time_limit": 5, "rate_change_percent": 4}
PASSWORD = "whatif-test-password"


def runs() -> list[WhatIfRun]:
    out = list(db.session.scalars(sa.select(WhatIfRun).order_by(WhatIfRun.id)))
    db.session.rollback()
    return out


def committed_row(run_id: int) -> tuple[str, float, str | None]:
    """The run as another connection sees it: what a polling request would read."""
    with db.engine.connect() as other:
        row = other.execute(
            sa.select(WhatIfRun.status, WhatIfRun.progress, WhatIfRun.progress_message).where(
                WhatIfRun.id == run_id
            )
        ).one()
    return str(row[0].value if hasattr(row[0], "value") else row[0]), row[1], row[2]


def browser(app: Flask, role: str, make: Callable[..., Any] | None = None) -> FlaskClient:
    """A test client signed in through the login form as a new user with ``role``."""
    n = db.session.scalar(sa.select(sa.func.count(User.id))) or 0
    person_id = make("people").id if role == "leader" and make else None
    user = User(
        email=f"web-{role}{n}@example.nhs.uk",
        name=role,
        role=UserRole(role),
        person_id=person_id,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
    )
    db.session.add(user)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    r = c.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302, r.data
    return c


# -- the API ------------------------------------------------------------------------------------


def test_the_api_queues_a_run_with_202_and_the_run_reports_the_result(
    directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("finance")
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
    assert r.status_code == 202, r.get_data(as_text=True)
    body = r.get_json()
    assert r.headers["Location"] == f"/api/v1/costs/whatif/{body['id']}" == body["links"]["self"]
    assert body["links"]["page"] == f"/finance/whatif/{body['id']}"
    # the testing queue runs each task right after its commit: done already
    assert (
        body["status"] == "done" and body["progress"] == 1.0 and body["progress_message"] == "Done"
    )
    assert body["request"]["rate_change_percent"] == 4 and body["requested_by"].startswith(
        "finance"
    )
    result = body["result"]
    assert result["delta"]["backfill_cost"] == pytest.approx(3768.00 * 0.04, abs=0.05)
    assert result["changes"]["rates"] == 4
    # The baseline's own sessions at 4 % more, by hand: Ada 4 × 4 h × £124.80, Bea 2 × 4 h × £42.64
    # + 2 × 4 h × £44.72, Cal 4 × 4 h × £54.60, Dan 4 h × £42.64 + 4 h × £44.72 = £3,918.72.
    assert result["baseline_at_new_rates"] == {
        "backfill_cost": 3918.72,
        "delta": 150.72,
        "annualised_delta": 3918.72,
    }  # 26 fortnights
    shown = client.get(r.headers["Location"], headers=headers)
    assert shown.status_code == 200 and shown.get_json() == body
    assert client.get("/api/v1/costs/whatif/999", headers=headers).status_code == 404
    # asking for a what-if is audited, with who asked and what they asked
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity == "whatif_runs"))
    assert event is not None and event.entity_id == str(body["id"]) and event.action == "create"
    assert event.new == body["request"] and event.actor == body["requested_by"]
    assert client.get("/api/v1/costs/whatif/abc", headers=headers).mimetype == PROBLEM


def test_in_the_background_the_run_is_queued_then_finishes(
    app: Flask, directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("rota_manager")
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert r.get_json()["status"] in ("queued", "running", "done")
    deadline = time.monotonic() + 60
    while True:
        body = client.get(r.headers["Location"], headers=headers).get_json()
        if body["status"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert body["status"] == "done", body
    assert body["result"]["delta"]["backfill_cost"] == pytest.approx(3768.00 * 0.04, abs=0.05)


def test_progress_is_committed_between_the_two_solves(
    directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)
    db.session.commit()
    assert committed_row(run.id) == ("queued", 0.0, "Waiting to start")
    seen: list[tuple[str, float, str | None]] = []
    solve = whatif._solve

    def solve_and_look(
        problem: Any, time_limit: float, progress: Any = None, stop: Any = None
    ) -> Any:
        seen.append(committed_row(run.id))
        return solve(problem, time_limit, progress, stop)

    monkeypatch.setattr(whatif, "_solve", solve_and_look)
    echoed: list[tuple[str, float]] = []
    done = run_whatif_run(run.id, lambda message, fraction: echoed.append((message, fraction)))
    assert seen == [
        ("running", 0.05, "Planning the baseline (1 of 2)"),
        ("running", 0.5, "Planning the scenario (2 of 2)"),
    ]
    assert committed_row(run.id) == ("done", 1.0, "Done")
    assert done.started_at is not None and done.finished_at is not None and done.error is None
    fractions = [f for _, f in echoed]
    assert fractions == sorted(fractions) and echoed[-1][0].startswith("Scenario planned: £")
    assert any(m.startswith("Baseline planned: £") for m, _ in echoed)
    # the solver's own steps move the bar within each half
    inner = [
        (m, f) for m, f in echoed if m.startswith(("Baseline (1 of 2): ", "Scenario (2 of 2): "))
    ]
    assert {m.split(":")[0] for m, _ in inner} == {"Baseline (1 of 2)", "Scenario (2 of 2)"}
    assert all(0.05 <= f <= 0.5 for m, f in inner if m.startswith("Baseline"))
    assert all(0.5 <= f <= 0.95 for m, f in inner if m.startswith("Scenario"))


def test_a_failing_solve_is_recorded_as_failed_and_is_no_500(
    directory: Directory,
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = login_as("finance")
    calls: list[int] = []
    solve = whatif._solve

    def scenario_breaks(
        problem: Any, time_limit: float, progress: Any = None, stop: Any = None
    ) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("CP-SAT crashed")
        return solve(problem, time_limit, progress, stop)

    monkeypatch.setattr(whatif, "_solve", scenario_breaks)
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
    assert r.status_code == 202, r.get_data(as_text=True)
    body = client.get(r.headers["Location"], headers=headers).get_json()
    assert body["status"] == "failed" and body["result"] is None
    assert body["error"] == "The solver failed; see the server log"  # no internals shown
    assert body["progress_message"] == "Failed" and body["finished_at"] is not None

    # A rule the data breaks only when it runs (here: the roles went away) says which.
    def no_roles(
        problem: Any, time_limit: float, progress: Any = None, stop: Any = None
    ) -> Any:
        raise whatif.ValidationError(
            "No role matches", [whatif.FieldError("commitment_changes.0.roles", "matches no role")]
        )

    monkeypatch.setattr(whatif, "_solve", no_roles)
    r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
    body = r.get_json()
    assert r.status_code == 202 and body["status"] == "failed"
    assert "commitment_changes.0.roles: matches no role" in body["error"]
    assert [x.status for x in runs()] == [WhatIfStatus.FAILED, WhatIfStatus.FAILED]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weeks": 0}, "weeks"),
        ({"time_limit": 601}, "time_limit"),
        ({"start": "2026-12-29"}, "start"),  # a Tuesday
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "organisation:nowhere"}, "scope"),
        ({"colour": "blue"}, "colour"),
        (
            {"commitment_changes": [{"roles": {"title_contains": "no such role"}, "amount": 2}]},
            "commitment_changes.0.roles",
        ),
        (
            {"new_entitlements": [{"people": {"profession": "midwife"}, "amount": 1}]},
            "new_entitlements.0.people",
        ),
        (
            {"new_entitlements": [{"people": {"min_band": "12"}, "amount": 1}]},
            "new_entitlements.0.people.min_band",
        ),
    ],
)
def test_a_bad_request_is_422_naming_the_field_and_queues_nothing(
    directory: Directory,
    client: FlaskClient,
    login_as: Callable[..., dict[str, str]],
    change: dict[str, Any],
    field: str,
) -> None:
    r = client.post("/api/v1/costs/whatif", json={**BODY, **change}, headers=login_as("finance"))
    assert r.status_code == 422 and r.mimetype == PROBLEM, r.get_data(as_text=True)
    assert field in {e["field"] for e in r.get_json()["errors"]}
    assert runs() == []


def test_leaders_and_strangers_may_not_run_or_read_a_what_if(
    directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    run = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)
    db.session.commit()
    leader = login_as("leader", directory.bea)
    for headers, status in ((leader, 403), ({}, 401)):
        r = client.post("/api/v1/costs/whatif", json=BODY, headers=headers)
        assert r.status_code == status and r.mimetype == PROBLEM
        r = client.get(f"/api/v1/costs/whatif/{run.id}", headers=headers)
        assert r.status_code == status and r.mimetype == PROBLEM
    assert len(runs()) == 1


def test_the_published_roster_is_unchanged_after_a_run(
    ledger: Ledger, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    def roster() -> list[tuple[Any, ...]]:
        db.session.expire_all()
        rows = [
            tuple(r)
            for t in (ProtectedSession.__table__, Attendance.__table__)
            for r in db.session.execute(sa.select(t).order_by(*t.primary_key.columns))
        ]
        db.session.rollback()
        return rows

    before = roster()
    body = {
        **BODY,
        "new_entitlements": [
            {"people": {"profession": "nurse", "min_band": "7"}, "amount": 1, "per": "week"}
        ],
    }
    r = client.post("/api/v1/costs/whatif", json=body, headers=login_as("finance"))
    assert r.status_code == 202 and r.get_json()["status"] == "done", r.get_data(as_text=True)
    assert r.get_json()["result"]["changes"]["people"] == 2  # Bea and Dan
    without_rates = {k: v for k, v in body.items() if k != "rate_change_percent"}
    r = client.post("/api/v1/costs/whatif", json=without_rates, headers=login_as("finance"))
    assert (
        r.status_code == 202 and "baseline_at_new_rates" not in r.get_json()["result"]
    )  # no new rates
    assert roster() == before


# -- the pages ----------------------------------------------------------------------------------


def test_the_page_shows_a_progress_bar_while_it_runs_and_the_result_when_done(
    app: Flask, directory: Directory
) -> None:
    c = browser(app, "finance")
    run = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)
    db.session.commit()
    page = c.get(f"/finance/whatif/{run.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        '<progress id="progress-bar"' in html and 'data-status-url="/api/v1/costs/whatif/' in html
    )
    assert "Waiting to start" in html and "<noscript>" in html and "sel-time.js" in html
    assert 'id="whatif-result"' not in html

    db.session.execute(
        sa.update(WhatIfRun).values(
            status=WhatIfStatus.RUNNING,
            progress=0.5,
            progress_message="Planning the scenario (2 of 2)",
        )
    )
    db.session.commit()
    html = c.get(f"/finance/whatif/{run.id}").get_data(as_text=True)
    assert 'value="50"' in html and "Planning the scenario (2 of 2)" in html

    run_whatif_run(run.id)
    html = c.get(f"/finance/whatif/{run.id}").get_data(as_text=True)
    assert 'id="whatif-result"' in html and "progress-bar" not in html
    assert "£150.72" in html  # 4 % of £3,768.00, give or take the solver's fairness trade
    assert (
        "At the new rates, the baseline's own sessions would cost £3,918.72: £150.72 more"
        in " ".join(html.split())
    )
    assert c.get("/finance/whatif/999").status_code == 404


def test_the_form_queues_a_run_and_goes_to_its_page(app: Flask, directory: Directory) -> None:
    c = browser(app, "rota_manager")
    form = {"start": "2026-12-28", "weeks": "2", "time_limit": "5", "rate_change_percent": "4"}
    r = c.post("/finance/whatif", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    (run,) = runs()
    assert r.headers["Location"] == f"/finance/whatif/{run.id}"
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="whatif-result"' in html and run.status == WhatIfStatus.DONE

    r = c.post("/finance/whatif", data={**form, "start": "2026-12-29"})  # a Tuesday
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "nhsuk-error-summary" in html and "#start" in html
    assert len(runs()) == 1


def test_a_failed_run_says_why_on_its_page(
    app: Flask, directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(
        problem: Any, time_limit: float, progress: Any = None, stop: Any = None
    ) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(whatif, "_solve", broken)
    c = browser(app, "admin")
    r = c.post("/finance/whatif", data={"start": "2026-12-28", "weeks": "2", "time_limit": "5"})
    assert r.status_code == 302
    page = c.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="whatif-error"' in html
    assert "The solver failed; see the server log" in html and "boom" not in html


def test_leaders_may_not_see_a_run_page(
    app: Flask, directory: Directory, make: Callable[..., Any]
) -> None:
    run = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)
    db.session.commit()
    # anonymous first: the test's app context (and Flask-Login's user in it) outlives a request
    anonymous = app.test_client().get(f"/finance/whatif/{run.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert browser(app, "leader", make).get(f"/finance/whatif/{run.id}").status_code == 403


# -- the command --------------------------------------------------------------------------------


def test_the_command_prints_progress_to_stderr_and_the_result_to_stdout(
    directory: Directory, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(BODY))
    result = runner.invoke(args=["sel-time", "whatif", str(scenario)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["delta"]["backfill_cost"] == pytest.approx(3768.00 * 0.04, abs=0.05)
    steps = [line.split("] ", 1)[1].split(":")[0] for line in result.stderr.splitlines()]
    assert [s for s in steps if not s.endswith("of 2)") or s.startswith("Planning")] == [
        "Building the baseline and the scenario",
        "Planning the baseline (1 of 2)",
        "Baseline planned",
        "Planning the scenario (2 of 2)",
        "Scenario planned",
    ]
    # and the solver's own steps within each solve
    assert "Baseline (1 of 2)" in steps and "Scenario (2 of 2)" in steps
    assert runs() == []  # the terminal's what-if is its own record: it writes nothing
    scenario.write_text(json.dumps({**BODY, "scope": "organisation:nowhere"}))
    result = runner.invoke(args=["sel-time", "whatif", str(scenario)])
    assert result.exit_code == 2 and "scope" in result.stderr


@pytest.mark.slow
def test_a_run_whose_worker_was_lost_is_run_again_once_then_failed(
    app: Flask, directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    from datetime import timedelta

    from sel_time.core.clock import now_utc
    from sel_time.core.queue.recovery import sweep

    app.config["QUEUE_LOST_AFTER"] = 60
    run = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)  # 5 s for each solve
    run.status, run.started_at = WhatIfStatus.RUNNING, now_utc() - timedelta(seconds=69)
    db.session.commit()
    assert sweep() == 0  # 69 s < 60 s + 2 x 5 s: still within its time
    body = client.get(f"/api/v1/costs/whatif/{run.id}", headers=login_as("finance")).get_json()
    assert body["status"] == "running"
    db.session.execute(sa.update(WhatIfRun).values(started_at=now_utc() - timedelta(seconds=71)))
    db.session.commit()
    assert sweep() == 1  # lost: queued again from the start (here run at once) and done
    db.session.expire_all()
    again = db.session.get(WhatIfRun, run.id)
    assert again.status == WhatIfStatus.DONE and again.attempt == 1  # first queued attempt
    db.session.execute(sa.update(WhatIfRun).values(
        status=WhatIfStatus.RUNNING, attempt=2, started_at=now_utc() - timedelta(minutes=5)))
    db.session.commit()
    assert sweep() == 1  # lost a second time: failed, saying why
    body = client.get(f"/api/v1/costs/whatif/{run.id}", headers=login_as("finance")).get_json()
    assert body["status"] == "failed" and "stopped (killed or its machine lost) twice" in (
        body["error"])


# -- the list -----------------------------------------------------------------------------------


def test_the_changes_read_as_a_line() -> None:
    from sel_time.finance.whatif import describe_request

    req = WhatIfRequest.model_validate(
        {
            "start": "2026-12-28",
            "rate_change_percent": 4,
            "new_entitlements": [
                {"people": {"profession": "nurse", "min_band": "7"}, "amount": 1},
                {
                    "people": {"profession": "pharmacist", "organisation": "kch"},
                    "amount": 2,
                    "unit": "pa",
                    "per": "month",
                },
            ],
            "commitment_changes": [
                {"roles": {"title_contains": "clinical director"}, "amount": 2, "per": "week"},
                {"roles": {"level": "place"}, "amount": 7.5, "unit": "hours"},
            ],
        }
    )
    assert describe_request(req.model_dump(mode="json")) == (
        'rates +4 %; nurse band 7+: 1 session a fortnight; pharmacist at kch: 2 PAs a month; '
        'roles with "clinical director": 2 sessions a week; place roles: 7.5 hours a week'
    )
    assert (
        describe_request(
            WhatIfRequest.model_validate(
                {"start": "2026-12-28", "rate_change_percent": -2.5}
            ).model_dump(mode="json")
        )
        == "rates -2.5 %"
    )
    assert describe_request({"start": "2026-12-28"}) == "no change"


def test_the_api_lists_the_latest_runs_newest_first(
    directory: Directory, client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    headers = login_as("finance")
    assert client.get("/api/v1/costs/whatif", headers=headers).get_json() == {"items": []}
    first = client.post("/api/v1/costs/whatif", json=BODY, headers=headers).get_json()
    second = client.post(
        "/api/v1/costs/whatif", json={**BODY, "rate_change_percent": -10}, headers=headers
    ).get_json()
    r = client.get("/api/v1/costs/whatif", headers=headers)
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [i["id"] for i in items] == [second["id"], first["id"]]
    assert items[1] == first  # each item is the run, as its own address shows it
    assert [i["summary"] for i in items] == ["rates -10 %", "rates +4 %"]
    assert items[0]["result"]["delta"]["backfill_cost"] == pytest.approx(
        -376.80, abs=0.05
    )  # 10 % of £3,768
    assert client.get("/api/v1/costs/whatif?status=failed", headers=headers).get_json() == {
        "items": []
    }
    assert (
        len(client.get("/api/v1/costs/whatif?status=done", headers=headers).get_json()["items"])
        == 2
    )
    r = client.get("/api/v1/costs/whatif?status=finished", headers=headers)
    assert r.status_code == 400 and r.mimetype == PROBLEM
    assert [e["field"] for e in r.get_json()["errors"]] == ["status"]
    assert client.get("/api/v1/costs/whatif", headers=login_as("leader")).status_code == 403


def test_the_form_page_lists_recent_runs_with_their_result(
    app: Flask, directory: Directory
) -> None:
    c = browser(app, "finance")
    html = c.get("/finance/whatif").get_data(as_text=True)
    assert "Recent what-ifs" in html and "No what-ifs yet." in html
    done = request_whatif(WhatIfRequest.model_validate(BODY), CLI_ACTOR)
    waiting = request_whatif(WhatIfRequest.model_validate({**BODY, "weeks": 4}), CLI_ACTOR)
    db.session.commit()
    run_whatif_run(done.id)
    html = " ".join(c.get("/finance/whatif").get_data(as_text=True).split())
    assert 'id="whatif-runs"' in html
    assert html.index(f"What if {waiting.id}") < html.index(f"What if {done.id}")  # newest first
    assert f'href="/finance/whatif/{done.id}"' in html
    assert "rates +4 %" in html and "2 weeks from 2026-12-28, system" in html
    assert "£150.72 more" in html  # 4 % of £3,768.00
    assert "0% planned" in html  # the queued one
