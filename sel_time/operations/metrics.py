"""Prometheus metrics: what sel-time counts in each process, and what it reads from the
database when it is scraped.

Counters and histograms live in prometheus-client's default registry. Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` (set by ``gunicorn.conf.py``) makes every worker write them to files
in that directory, and a scrape of any worker adds up all of them (``MultiProcessCollector``);
``child_exit`` marks a dead worker's files. Facts that belong to the database rather than to one
process (the nightly run's outcome and age, the queue, the last solve of each scope) are read at
scrape time by :class:`DatabaseCollector`, so they are right whichever process did the work.

For other parts of the app to call: :func:`observe_job`, :func:`record_email`,
:func:`record_import_rows`, :func:`add_queue_depth_source`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # multiprocess mode writes there from the start
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

PREFIX = "sel_time"
JOB_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600)

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by route class (the URL rule, never the raw path), method and "
    "status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by route class and method",
    ["route", "method"],
)
FEED_REQUESTS = Counter(
    f"{PREFIX}_feed_requests",
    "Calendar feed requests, by the path that answered them (fast: the WSGI fast path from the "
    "cache; full: the Flask view) and status",
    ["path", "status"],
)
JOB_DURATION = Histogram(
    f"{PREFIX}_job_duration_seconds",
    "How long background jobs took, by kind (plan, whatif, nightly_refresh, ...) and outcome",
    ["kind", "outcome"],
    buckets=JOB_BUCKETS,
)
SOLVES = Counter(
    f"{PREFIX}_solves",
    "Solver runs finished, by the solver's status (optimal, feasible, infeasible, unknown)",
    ["status"],
)
EMAILS = Counter(
    f"{PREFIX}_emails", "E-mails sent and failed, by outcome (sent, failed)", ["outcome"]
)
IMPORT_ROWS = Counter(
    f"{PREFIX}_import_rows",
    "Spreadsheet rows imported, by kind (people, roles, ...) and result (created, updated, "
    "unchanged)",
    ["kind", "result"],
)
RETENTION_DELETED = Counter(
    f"{PREFIX}_retention_deleted_rows",
    "Rows deleted by the retention rules, by table",
    ["table"],
)
# Known label values start at 0, so that a rate() or an alert sees them before the first event.
for _outcome in ("sent", "failed"):
    EMAILS.labels(outcome=_outcome)
for _status in ("optimal", "feasible", "infeasible", "unknown"):
    SOLVES.labels(status=_status)

# The metrics DatabaseCollector reports at each scrape (name: help), for docs and tests.
DATABASE_METRICS = {
    f"{PREFIX}_nightly_last_success_timestamp_seconds":
        "When the last successful nightly refresh finished (Unix time); 0 if never",
    f"{PREFIX}_nightly_last_run_timestamp_seconds":
        "When the latest nightly refresh started (Unix time); 0 if never",
    f"{PREFIX}_nightly_last_run_succeeded":
        "1 if the latest nightly refresh succeeded, 0 if it failed or is still running",
    f"{PREFIX}_queue_depth": "Background jobs waiting to start, by kind",
    f"{PREFIX}_jobs_running": "Background jobs running now, by kind",
    f"{PREFIX}_solver_last_status":
        "1 for the solver status of the latest finished solve of each plan scope",
    f"{PREFIX}_solver_last_gap_ratio":
        "Relative gap between the objective and the solver's bound in the latest solve of each "
        "scope (0 when optimal)",
    f"{PREFIX}_solver_last_seconds": "Wall time of the latest solve of each scope",
    f"{PREFIX}_database_up": "1 if the database answered this scrape's queries, else 0",
}

_queue_sources: dict[str, Callable[[], int]] = {}


def observe_job(kind: str, outcome: str, seconds: float) -> None:
    """A background job of ``kind`` ended with ``outcome`` after ``seconds``."""
    JOB_DURATION.labels(kind=kind, outcome=outcome).observe(max(0.0, float(seconds)))


def record_email(outcome: str, count: int = 1) -> None:
    """``count`` e-mails were ``sent`` or ``failed``."""
    if outcome not in ("sent", "failed"):
        raise ValueError(f"an e-mail outcome is 'sent' or 'failed', not {outcome!r}")
    EMAILS.labels(outcome=outcome).inc(count)


def record_import_rows(kind: str, result: str, count: int) -> None:
    """``count`` rows of ``kind`` were ``created``, ``updated`` or left ``unchanged``."""
    if count > 0:
        IMPORT_ROWS.labels(kind=kind, result=result).inc(count)


def record_solve(status: str) -> None:
    SOLVES.labels(status=status or "unknown").inc()


def add_queue_depth_source(kind: str, depth: Callable[[], int]) -> None:
    """Report ``depth()`` as ``sel_time_queue_depth{kind=...}`` at each scrape (a task queue's
    pending count, for example). Replaces an earlier source of the same kind."""
    _queue_sources[kind] = depth


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(extra: Collector | None = None) -> bytes:
    """The text exposition of every metric: this process's (or, in multiprocess mode, every
    live and dead worker's), and ``extra``'s."""
    path = multiprocess_dir()
    if path:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Delegate(REGISTRY))
    if extra is not None:
        registry.register(extra)
    return generate_latest(registry)


class _Delegate(Collector):
    """The default registry's metrics, inside a registry of the scrape's own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


class DatabaseCollector(Collector):
    """Metrics read from the database at each scrape. Must be collected inside an app context;
    a database that does not answer gives ``sel_time_database_up 0`` and nothing else."""

    def __init__(self, session: Any) -> None:  # a Session or Flask-SQLAlchemy's scoped one
        self.session = session

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_database_up", DATABASE_METRICS[f"{PREFIX}_database_up"])
        try:
            families = list(self._families())
        except sa.exc.SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _gauge(self, name: str, labels: list[str] | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(f"{PREFIX}_{name}", DATABASE_METRICS[f"{PREFIX}_{name}"],
                                 labels=labels)

    def _families(self) -> Iterator[Metric]:
        from ..models import JobRun, Plan, PlanStatus, RunStatus, WhatIfRun, WhatIfStatus

        nightly = "nightly-refresh"
        last_ok = self.session.scalar(
            sa.select(sa.func.max(JobRun.finished_at)).where(
                JobRun.job == nightly, JobRun.status == RunStatus.SUCCEEDED))
        latest = self.session.execute(
            sa.select(JobRun.status, JobRun.started_at).where(JobRun.job == nightly)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()
        success = self._gauge("nightly_last_success_timestamp_seconds")
        success.add_metric([], _timestamp(_aware(last_ok)))
        started = self._gauge("nightly_last_run_timestamp_seconds")
        started.add_metric([], _timestamp(latest.started_at) if latest else 0.0)
        succeeded = self._gauge("nightly_last_run_succeeded")
        succeeded.add_metric([], 1 if latest and latest.status == RunStatus.SUCCEEDED else 0)
        yield from (success, started, succeeded)

        depth = self._gauge("queue_depth", ["kind"])
        running = self._gauge("jobs_running", ["kind"])
        for kind, model, queued, going in (
            ("plan", Plan, PlanStatus.QUEUED, PlanStatus.RUNNING),
            ("whatif", WhatIfRun, WhatIfStatus.QUEUED, WhatIfStatus.RUNNING),
        ):
            counts = {status: n for status, n in self.session.execute(
                sa.select(model.status, sa.func.count()).where(model.status.in_([queued, going]))
                .group_by(model.status))}
            depth.add_metric([kind], counts.get(queued, 0))
            running.add_metric([kind], counts.get(going, 0))
        for kind, source in sorted(_queue_sources.items()):
            try:
                depth.add_metric([kind], float(source()))
            except Exception:  # a queue that cannot be asked must not break the scrape
                log.warning("metrics: the %s queue's depth could not be read", kind,
                            exc_info=True)
        yield from (depth, running)

        newest = (sa.select(sa.func.max(Plan.id)).where(Plan.solver_status.is_not(None))
                  .group_by(Plan.scope))
        status = self._gauge("solver_last_status", ["scope", "status"])
        gap = self._gauge("solver_last_gap_ratio", ["scope"])
        seconds = self._gauge("solver_last_seconds", ["scope"])
        for plan in self.session.execute(
            sa.select(Plan.scope, Plan.solver_status, Plan.objective, Plan.bound,
                      Plan.wall_seconds).where(Plan.id.in_(newest)).order_by(Plan.scope)
        ):
            status.add_metric([plan.scope, plan.solver_status], 1)
            value = _gap(plan.objective, plan.bound)
            if value is not None:
                gap.add_metric([plan.scope], value)
            if plan.wall_seconds is not None:
                seconds.add_metric([plan.scope], plan.wall_seconds)
        yield from (status, gap, seconds)


def _aware(value: datetime | None) -> datetime | None:
    from ..core.clock import as_utc

    return as_utc(value) if value is not None else None
