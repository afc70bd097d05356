"""``/metrics``: behind its token; after real requests, Prometheus's own parser reads every
metric docs/operations.md documents, with requests counted by route class (never the raw path),
feed polls by the path that answered them, jobs by kind and outcome, and the database's facts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from sel_time.core.audit import CLI_ACTOR, Actor
from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.feeds import tokens as feeds
from sel_time.mail.models import MailStatus
from sel_time.mail.outbox import queue_message
from sel_time.models import (
    AuditEvent,
    FeedKind,
    JobRun,
    Plan,
    PlanStatus,
    RunStatus,
    User,
    UserRole,
)
from sel_time.operations import observe_job, record_email, request_id_bound

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
TOKEN = "metrics-" + "x" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture()
def app(app: Flask) -> Flask:
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def scrape(app: Flask) -> tuple[set[str], Samples]:
    response = app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        names.add(family.name)
        names |= {s.name for s in family.samples}
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return names, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def documented() -> list[str]:
    names = re.findall(r"^\| `(sel_time_[a-z_]+)`", DOCS.read_text(), re.M)
    assert len(names) >= 15
    return names


def test_metrics_need_their_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    app.config["METRICS_TOKEN"] = ""
    off = client.get("/metrics", headers=AUTH)
    assert off.status_code == 404 and "SEL_TIME_METRICS_TOKEN" in off.get_data(as_text=True)


def test_every_documented_metric_is_scraped_after_real_requests(
    app: Flask, make: Callable[..., Any]
) -> None:
    person = make("people")
    user = User(email="leader@metrics.test", name="Leader", role=UserRole.LEADER,
                person_id=person.id)
    db.session.add(user)
    db.session.flush()
    _, secret = feeds.issue_token(user, FeedKind.PERSON, person.id, Actor.for_user(user))
    db.session.commit()
    _, before = scrape(app)
    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get(f"/no/such/page/{secret}").status_code == 404
    assert client.get("/api/v1/plans/12345", headers=AUTH).status_code == 401
    assert client.get(f"/feeds/{secret}.ics").status_code == 200  # rendered: the full view
    assert client.get(f"/feeds/{secret}.ics").status_code == 200  # cached: the fast path
    names, after = scrape(app)

    # A counter's family is named without "_total" (a counter with no labelled child yet has
    # no sample); each documented metric must be there under its own name or its family's.
    missing = [n for n in documented()
               if n not in names and n.removesuffix("_total") not in names]
    assert not missing, missing

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sel_time_http_requests_total", route="/health", method="GET", status="200") == 1
    assert delta("sel_time_http_requests_total", route="unmatched", method="GET",
                 status="404") == 1
    assert delta("sel_time_http_requests_total", route="/api/v1/plans/<ident>",
                 method="GET", status="401") == 1
    assert delta("sel_time_feed_requests_total", path="full", status="200") == 1
    assert delta("sel_time_feed_requests_total", path="fast", status="200") == 1
    assert delta("sel_time_http_request_duration_seconds_count", route="/health",
                 method="GET") == 1
    # Routes are classes: no raw path, so no feed secret, is ever a label.
    assert all(secret not in str(key) for key in after)


def test_jobs_solves_and_the_databases_facts(app: Flask) -> None:
    _, before = scrape(app)
    now = now_utc()
    queued = Plan(scope="system", start_date=date(2027, 1, 4), weeks=2, status=PlanStatus.QUEUED,
                  requested_by="cli", created_at=now)
    done = Plan(scope="organisation:kch", start_date=date(2027, 1, 4), weeks=2,
                status=PlanStatus.RUNNING, requested_by="cli", created_at=now, started_at=now)
    db.session.add_all([queued, done])
    db.session.add(JobRun(job="nightly-refresh", run_date=date(2027, 1, 1),
                          status=RunStatus.SUCCEEDED, holder="h:1", trigger="cron",
                          started_at=now - timedelta(minutes=5), finished_at=now))
    db.session.commit()
    done.status, done.finished_at = PlanStatus.DRAFT, now + timedelta(seconds=42)
    done.solver_status, done.objective, done.bound, done.wall_seconds = "feasible", 200.0, 150.0, 41
    db.session.commit()
    observe_job("queued_task", "succeeded", 3.5)
    record_email("sent", 2)  # a sender outside the outbox
    mails = [queue_message(recipient=f"r{n}@nhs.net", subject="s", text="t", kind="probe")
             for n in range(3)]
    db.session.commit()
    mails[0].status, mails[1].status = MailStatus.SENT, MailStatus.FAILED  # as deliver_pending
    db.session.commit()
    db.session.add(AuditEvent(at=now, actor="cli", action="import", entity="spreadsheet",
                              new={"file": "people.csv", "people": {"created": 3, "updated": 1,
                                                                    "unchanged": 0}}))
    db.session.commit()
    _, after = scrape(app)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sel_time_job_duration_seconds_count", kind="plan", outcome="draft") == 1
    assert delta("sel_time_job_duration_seconds_sum", kind="plan", outcome="draft") == \
        pytest.approx(42)
    assert delta("sel_time_job_duration_seconds_count", kind="nightly_refresh",
                 outcome="succeeded") == 1
    assert delta("sel_time_job_duration_seconds_count", kind="queued_task",
                 outcome="succeeded") == 1
    assert delta("sel_time_solves_total", status="feasible") == 1
    assert delta("sel_time_emails_total", outcome="sent") == 3
    assert delta("sel_time_emails_total", outcome="failed") == 1
    assert delta("sel_time_import_rows_total", kind="people", result="created") == 3
    assert value(after, "sel_time_queue_depth", kind="plan") == 1
    assert value(after, "sel_time_solver_last_status", scope="organisation:kch",
                 status="feasible") == 1
    assert value(after, "sel_time_solver_last_gap_ratio", scope="organisation:kch") == 0.25
    assert value(after, "sel_time_nightly_last_success_timestamp_seconds") == pytest.approx(
        now.timestamp(), abs=1)
    assert value(after, "sel_time_nightly_last_run_succeeded") == 1
    assert value(after, "sel_time_database_up") == 1


def test_a_rolled_back_job_is_not_counted(app: Flask) -> None:
    _, before = scrape(app)
    now = now_utc()
    plan = Plan(scope="team:x", start_date=date(2027, 1, 4), weeks=2, status=PlanStatus.FAILED,
                requested_by="cli", created_at=now, started_at=now, finished_at=now,
                solver_status="unknown")
    db.session.add(plan)
    db.session.flush()
    db.session.rollback()
    _, after = scrape(app)
    key = ("sel_time_solves_total", (("status", "unknown"),))
    assert after.get(key, 0) == before.get(key, 0)


def test_the_request_id_is_returned_and_kept_on_the_jobs_a_request_starts(
    app: Flask, make: Callable[..., Any], login_as: Callable[..., dict[str, str]]
) -> None:
    client = app.test_client()
    given = client.get("/health", headers={"X-Request-ID": "abc-123-def-456"})
    assert given.headers["X-Request-ID"] == "abc-123-def-456"
    made = client.get("/health", headers={"X-Request-ID": "<script> \"x\""}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    app.config["PLAN_SYNCHRONOUS"] = True
    manager = login_as("rota_manager")
    monday = now_utc().date() + timedelta(days=7 - now_utc().weekday())
    response = client.post("/api/v1/plans", json={"start": monday.isoformat(), "weeks": 1,
                                                  "time_limit": 2},
                           headers={**manager, "X-Request-ID": "req-plan-000001"})
    assert response.status_code == 202, response.get_data(as_text=True)
    db.session.expire_all()
    plan = db.session.get(Plan, response.get_json()["id"])
    assert plan is not None and plan.request_id == "req-plan-000001"
    with request_id_bound("job-started-by-a-task"):
        later = Plan(scope="team:y", start_date=monday, weeks=1, status=PlanStatus.QUEUED,
                     requested_by=CLI_ACTOR.label, created_at=now_utc())
        db.session.add(later)
        db.session.flush()
    assert later.request_id == "job-started-by-a-task"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Plan.id)).where(Plan.scope == "team:y")) == 0
