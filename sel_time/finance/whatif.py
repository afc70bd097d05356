"""What-if projections for finance: describe a policy change, and sel-time plans the changed
scenario with the solver in a sandbox (a savepoint that is always rolled back), next to a
baseline planned the same way, and reports the cost delta. The published roster is never
touched.

Two solves of up to ten minutes each do not fit in a web request, so a what-if is a recorded
run (``WhatIfRun``), like a plan: ``request_whatif`` checks the request and the caps and
records it, ``finance.tasks`` queues it for a worker, ``run_whatif_run`` runs it there and
records progress and the result. ``run_whatif`` is the computation itself (the CLI calls it
directly)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from flask import current_app

import solver

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import FieldError, NotFound, SelTimeError, TooBusy, ValidationError
from ..core.extensions import db
from ..core.transaction import boundary, discard, read_only, sandbox
from ..models import (
    LeadershipRole,
    Organisation,
    OrgKind,
    Person,
    RateCardEntry,
    RoleAssignment,
    RoleLevel,
    WhatIfRun,
    WhatIfStatus,
)
from ..plans.planning import ProgressWriter
from ..plans.problem import build_problem, check_horizon
from ..plans.scope import Scope, governed
from .caps import serialise_cap_checks
from .schemas import BANDS, PeopleFilter, RoleFilter, WhatIfRequest

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]
ACTIVE = (WhatIfStatus.QUEUED, WhatIfStatus.RUNNING)


@dataclass
class Outcome:
    backfill_cost: float
    sessions: int
    shortfall_sessions: int
    status: str


def _band_at_least(band: str | None, minimum: str) -> bool:
    if band is None:
        return False
    b = band.strip().lower().removeprefix("band").strip()
    m = minimum.strip().lower().removeprefix("band").strip()
    return b in BANDS and m in BANDS and BANDS.index(b) >= BANDS.index(m)


def _matching_people(f: PeopleFilter, field: str = "people") -> list[Person]:
    q = sa.select(Person).where(Person.active.is_(True)).order_by(Person.id)
    if f.profession is not None:
        q = q.where(Person.profession == f.profession)
    if f.organisation:
        q = q.join(Organisation, Person.organisation_id == Organisation.id).where(
            Organisation.code == f.organisation
        )
    if f.leaders_only:
        q = q.where(Person.id.in_(sa.select(RoleAssignment.person_id)))
    people = list(db.session.scalars(q))
    if f.min_band:
        if f.min_band.strip().lower().removeprefix("band").strip() not in BANDS:
            raise ValidationError(
                "Unknown band",
                [FieldError(f"{field}.min_band", f'"{f.min_band}" is not an AfC band')],
            )
        people = [p for p in people if _band_at_least(p.band, f.min_band)]
    return people


def _matching_roles(f: RoleFilter) -> list[LeadershipRole]:
    q = sa.select(LeadershipRole).order_by(LeadershipRole.id)
    if f.code_prefix:
        q = q.where(LeadershipRole.code.startswith(f.code_prefix))
    if f.title_contains:
        q = q.where(sa.func.lower(LeadershipRole.title).contains(f.title_contains.lower()))
    if f.level is not None:
        q = q.where(LeadershipRole.level == f.level)
    return list(db.session.scalars(q))


def _solve(
    problem: solver.Problem, time_limit: float, progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> tuple[Outcome, solver.Solution]:
    sol = solver.solve(
        problem,
        solver.SolveOptions(
            time_limit=time_limit,
            workers=current_app.config["SOLVER_WORKERS"],
            seed=0,
            progress=progress,
            stop=stop,
        ),
    )
    outcome = Outcome(
        sol.totals["backfill_cost"],
        len(sol.sessions) + sum(len(t.attendees) for t in sol.team_sessions),
        int(sol.totals["shortfall_sessions"]),
        sol.status,
    )
    return outcome, sol


def _priced(solution: solver.Solution, problem: solver.Problem) -> float:
    """The backfill cost of ``solution``'s sessions and team attendances at ``problem``'s slot
    costs: the plan as it stands, priced at another scenario's rates."""
    costs = {p.id: p.available for p in problem.people}
    pence: int = sum(round(costs[s.person][s.slot] * 100) for s in solution.sessions)
    pence += sum(
        round(costs[a][t.slot] * 100) for t in solution.team_sessions for a in t.attendees
    )
    return pence / 100


def _scaled(pence: int, percent: float) -> int:
    """``pence`` changed by ``percent``, to the penny half-up like every other figure (not
    ``round(float)``: £31.75 + 2 % is £32.385, so £32.39)."""
    exact = Fraction(pence) * (1 + Fraction(str(percent)) / 100)
    return int(exact + Fraction(1, 2))


def _apply(req: WhatIfRequest) -> dict[str, int]:
    """Make the scenario's changes in the (sandboxed) session; say how much they touched."""
    touched = {"rates": 0, "roles": 0, "people": 0}
    if req.rate_change_percent is not None:
        percent = req.rate_change_percent
        for rate in db.session.scalars(sa.select(RateCardEntry)):
            rate.rate_pence_per_hour = _scaled(rate.rate_pence_per_hour, percent)
            touched["rates"] += 1
        for person in db.session.scalars(
            sa.select(Person).where(Person.backfill_rate_pence.is_not(None))
        ):
            person.backfill_rate_pence = _scaled(person.backfill_rate_pence or 0, percent)
    for i, change in enumerate(req.commitment_changes):
        roles = _matching_roles(change.roles)
        if not roles:
            raise ValidationError(
                "No role matches", [FieldError(f"commitment_changes.{i}.roles", "matches no role")]
            )
        for role in roles:
            role.commitment_amount, role.commitment_unit, role.commitment_per = (
                change.amount,
                change.unit,
                change.per,
            )
            touched["roles"] += 1
    host = db.session.scalar(
        sa.select(Organisation).where(Organisation.kind == OrgKind.ICB)
    ) or db.session.scalar(sa.select(Organisation).order_by(Organisation.id))
    for i, ent in enumerate(req.new_entitlements):
        people = _matching_people(ent.people, f"new_entitlements.{i}.people")
        if not people:
            raise ValidationError(
                "No one matches", [FieldError(f"new_entitlements.{i}.people", "matches no one")]
            )
        role = LeadershipRole(
            code=f"what-if-{i}",
            title=ent.title,
            level=RoleLevel.SYSTEM,
            host_organisation_id=host.id if host else people[0].organisation_id,
            commitment_amount=ent.amount,
            commitment_unit=ent.unit,
            commitment_per=ent.per,
        )
        db.session.add(role)
        db.session.flush()
        for p in people:
            db.session.add(RoleAssignment(person_id=p.id, role_id=role.id, start_date=req.start))
            touched["people"] += 1
    db.session.flush()
    return touched


def _describe(name: str, outcome: Outcome) -> str:
    return (
        f"{name} planned: £{outcome.backfill_cost:,.2f} backfill, {outcome.sessions} sessions, "
        f"{outcome.shortfall_sessions} short ({outcome.status})"
    )


def _within(report: Progress, name: str, low: float, high: float) -> Progress:
    """The solver's own progress through one solve, as a part of the what-if's bar."""
    return lambda message, fraction: report(f"{name}: {message}", low + (high - low) * fraction)


def run_whatif(req: WhatIfRequest, progress: Progress | None = None,
               stop: threading.Event | None = None) -> dict[str, Any]:
    """Baseline and scenario planned the same way; the scenario's changes are rolled back.

    Read-only, and it ends the session's transaction (a rollback: there is nothing to keep)
    before solving, as ``run_plan`` commits before it solves: the sandbox's writes take
    SQLite's write lock until the transaction ends, and the two solves may run for minutes.
    ``progress(message, fraction)`` hears of each step, never while the sandbox is open (a
    what-if run commits its progress row from it)."""
    report = progress or (lambda message, fraction: None)
    scope = Scope.parse(req.scope)
    report("Building the baseline and the scenario", 0.02)
    baseline_problem = build_problem(req.start, req.weeks, scope).problem
    with read_only(), sandbox():
        touched = _apply(req)
        scenario_problem = build_problem(req.start, req.weeks, scope).problem
    report("Planning the baseline (1 of 2)", 0.05)
    baseline = solver.parse_problem(baseline_problem)
    base, base_plan = _solve(
        baseline, req.time_limit, _within(report, "Baseline (1 of 2)", 0.05, 0.5), stop
    )
    report(_describe("Baseline", base), 0.5)
    report("Planning the scenario (2 of 2)", 0.5)
    scenario = solver.parse_problem(scenario_problem)
    scen, _ = _solve(
        scenario, req.time_limit, _within(report, "Scenario (2 of 2)", 0.5, 0.95), stop
    )
    report(_describe("Scenario", scen), 0.95)
    result: dict[str, Any] = {
        "start": req.start.isoformat(),
        "weeks": req.weeks,
        "scope": str(scope),
        "changes": touched,
        "baseline": base.__dict__,
        "scenario": scen.__dict__,
        "delta": {
            "backfill_cost": round(scen.backfill_cost - base.backfill_cost, 2),
            "sessions": scen.sessions - base.sessions,
            "shortfall_sessions": scen.shortfall_sessions - base.shortfall_sessions,
        },
        "annualised_delta": round((scen.backfill_cost - base.backfill_cost) * 52 / req.weeks, 2),
    }
    if req.rate_change_percent is not None:
        # Re-planned at new rates, the solver may trade a session or a team attendance for cost;
        # finance also needs the price of the same sessions at the new rates.
        same = _priced(base_plan, scenario)
        result["baseline_at_new_rates"] = {
            "backfill_cost": same,
            "delta": round(same - base.backfill_cost, 2),
            "annualised_delta": round((same - base.backfill_cost) * 52 / req.weeks, 2),
        }
    return result


# -- what-if runs: recorded, run in the background, followed by the browser ---------------------


def check_request(req: WhatIfRequest) -> None:
    """Everything that can be found wrong before solving, as a 422 naming the field: the
    scope, the horizon, and filters that match no one (tried in a sandbox, rolled back)."""
    scope = Scope.parse(req.scope)
    check_horizon(req.start, req.weeks)
    try:
        governed(scope, req.start, req.start + timedelta(weeks=req.weeks, days=-1))
    except NotFound as exc:
        raise ValidationError("Unknown scope", [FieldError("scope", exc.detail)]) from None
    with sandbox():
        _apply(req)


def check_caps(actor: Actor) -> None:
    """At most WHATIF_CAP_PER_USER what-ifs queued or running for one user and
    WHATIF_CAP_TOTAL in all: 429, with Retry-After and the limit in words, beyond that.
    Holds the caps' lock to the end of the transaction, so two requests at once cannot both
    take the last place (:mod:`.caps`)."""
    serialise_cap_checks()
    cfg = current_app.config
    per_user, total = int(cfg["WHATIF_CAP_PER_USER"]), int(cfg["WHATIF_CAP_TOTAL"])
    active = sa.select(sa.func.count(WhatIfRun.id)).where(WhatIfRun.status.in_(ACTIVE))
    running = db.session.scalar(active) or 0
    if running >= total:
        raise TooBusy(
            f"{running} what-ifs are queued or running, the most the system runs at once "
            f"({total}); try again when one has finished",
            [FieldError("whatif", f"at most {total} at once in all")], retry_after=60)
    mine = db.session.scalar(active.where(WhatIfRun.requested_by == actor.label)) or 0
    if mine >= per_user:
        raise TooBusy(
            f"You have {mine} what-ifs queued or running, the most one person may have at "
            f"once ({per_user}); wait for one to finish, or cancel one",
            [FieldError("whatif", f"at most {per_user} at once per person")], retry_after=30)


def request_whatif(req: WhatIfRequest, actor: Actor) -> WhatIfRun:
    """Check the request (422 at once, naming the field) and the caps (429), and record a
    queued run of it. Flushes."""
    check_request(req)
    check_caps(actor)
    run = WhatIfRun(
        status=WhatIfStatus.QUEUED,
        request=req.model_dump(mode="json"),
        progress=0.0,
        progress_message="Waiting to start",
        requested_by=actor.label,
        requested_by_id=actor.user.id if actor.user else None,
        created_at=now_utc(),
    )
    db.session.add(run)
    db.session.flush()
    record(actor, "create", "whatif_runs", run.id, None, run.request)
    log.info("what-if %s queued by %s", run.id, actor.label)
    return run


def run_whatif_run(run_id: int, echo: Progress | None = None,
                   stop: threading.Event | None = None) -> WhatIfRun:
    """Run a queued what-if. Commits: once to mark it running, after each step for progress,
    once for the result or the failure (a failed run records why and is never left running)."""
    run = db.session.get(WhatIfRun, run_id)
    if run is None:
        raise NotFound(f"No what-if run {run_id}")
    try:
        with boundary(quiet=False):  # marked running, for the browser that follows it
            req = WhatIfRequest.model_validate(run.request)
            run.status = WhatIfStatus.RUNNING
            run.started_at = now_utc()
            run.progress_message = "Starting"
        result = run_whatif(req, ProgressWriter(WhatIfRun, run_id, echo, min_interval=0), stop)
        with boundary(quiet=False):  # the result
            run = db.session.get(WhatIfRun, run_id)
            assert run is not None
            run.result = result
            run.status = WhatIfStatus.DONE
            run.progress = 1.0
            run.progress_message = "Done"
            run.finished_at = now_utc()
        return run
    except Exception as exc:
        discard()  # whatever the failed step left is not kept
        expected = isinstance(exc, (SelTimeError, solver.ProblemError))
        with boundary(quiet=False):  # the failure, in a transaction of its own
            run = db.session.get(WhatIfRun, run_id)
            assert run is not None
            run.status = WhatIfStatus.FAILED
            run.finished_at = now_utc()
            run.error = str(exc) if expected else "The solver failed; see the server log"
            run.progress_message = "Failed"
            if isinstance(exc, solver.Stopped):
                run.status, run.error, run.progress_message = (
                    WhatIfStatus.CANCELLED, "Cancelled", "Cancelled")
                run.cancel_requested = False
        if not expected and not isinstance(exc, solver.Stopped):
            log.exception("what-if %s failed", run_id)
        raise


def get_run(ident: str | int) -> WhatIfRun:
    """A run by id (404 otherwise)."""
    text = str(ident)
    run = (
        db.session.get(WhatIfRun, int(text))
        if text.isascii() and text.isdigit() and int(text) <= 2**31 - 1
        else None
    )
    if run is None:
        raise NotFound(f"No what-if run {ident}")
    return run


UNIT_WORDS = {
    "pa": ("PA", "PAs"),
    "gp_session": ("GP session", "GP sessions"),
    "session": ("session", "sessions"),
    "hours": ("hour", "hours"),
}
RECENT = 100  # runs listed, newest first


def _amount(item: dict[str, Any]) -> str:
    one, many = UNIT_WORDS.get(str(item.get("unit")), ("session", "sessions"))
    amount = float(item.get("amount") or 0)
    return f"{amount:g} {one if amount == 1 else many} a {item.get('per') or 'week'}"


def describe_request(data: dict[str, Any]) -> str:
    """A what-if's changes in a line, for lists: 'rates +4 %; nurses band 7+: 1 session a
    fortnight; roles with "clinical director": 2 sessions a week'."""
    parts = []
    if data.get("rate_change_percent") is not None:
        parts.append(f"rates {float(data['rate_change_percent']):+g} %")
    for ent in data.get("new_entitlements") or []:
        people = ent.get("people") or {}
        who = str(people.get("profession") or "everyone").replace("_", " ")
        if people.get("min_band"):
            who += f" band {people['min_band']}+"
        if people.get("organisation"):
            who += f" at {people['organisation']}"
        parts.append(f"{who}: {_amount(ent)}")
    for change in data.get("commitment_changes") or []:
        roles = change.get("roles") or {}
        if roles.get("title_contains"):
            which = f'roles with "{roles["title_contains"]}"'
        elif roles.get("code_prefix"):
            which = f"roles {roles['code_prefix']}…"
        elif roles.get("level"):
            which = f"{roles['level']} roles"
        else:
            which = "every role"
        parts.append(f"{which}: {_amount(change)}")
    return "; ".join(parts) or "no change"


def recent_runs(status: WhatIfStatus | None = None) -> list[WhatIfRun]:
    """The latest what-if runs, newest first."""
    q = sa.select(WhatIfRun).order_by(WhatIfRun.id.desc()).limit(RECENT)
    if status is not None:
        q = q.where(WhatIfRun.status == status)
    return list(db.session.scalars(q))


def run_dict(run: WhatIfRun) -> dict[str, Any]:
    """A run as JSON: its status and progress, and the result once done."""
    return {
        "id": run.id,
        "status": run.status.value,
        "progress": round(run.progress, 3),
        "progress_message": run.progress_message,
        "request": run.request,
        "summary": describe_request(run.request or {}),
        "result": run.result,
        "error": run.error,
        "requested_by": run.requested_by,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
