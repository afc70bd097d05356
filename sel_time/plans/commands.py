"""``sel-time plan|publish|plans|export-problem|export-plan|cancel plan``."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app

from ..core import clock
from ..core.commands import TerminalProgress, cancel_group, command
from ..core.errors import SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary, discard
from ..models import Plan, PlanStatus

# How often ``sel-time plan`` reads its plan's progress, and how long a plan may wait for a
# worker before the command says none seems to be running.
FOLLOW_EVERY = 0.25
NO_WORKER_HINT_AFTER = 5.0
_pause = time.sleep  # between looks at a queued plan (the tests press Ctrl-C here)


@command("plan")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="a Monday (default: the next Monday)",
)
@click.option("--weeks", type=click.IntRange(1, 52), default=12, show_default=True)
@click.option(
    "--scope",
    default="system",
    show_default=True,
    help='"system", "organisation:<code>" or "team:<code>"',
)
@click.option("--time-limit", type=click.FloatRange(1, 3600), default=None, help="seconds")
@click.option(
    "--publish", "do_publish", is_flag=True, help="publish the plan if the solver finds one"
)
@click.option("--json", "as_json", is_flag=True, help="print a JSON summary instead of the id")
@click.option(
    "--here",
    is_flag=True,
    help="solve in this process instead of queueing the solve for a worker (when no "
    "`sel-time worker` is running)",
)
def plan_command(
    start: Any,
    weeks: int,
    scope: str,
    time_limit: float | None,
    do_publish: bool,
    as_json: bool,
    here: bool,
) -> None:
    """Plan protected time for a horizon and print the plan's id.

    The solve is queued for a worker, as the API's is, and followed here with a progress bar
    until it ends; Ctrl-C asks for it to be cancelled (twice: stop waiting). With --here this
    process solves it."""
    import json

    from ..core.audit import CLI_ACTOR
    from .planning import request_plan
    from .publishing import publish
    from .serialise import plan_summary
    from .tasks import queue_solve, solve, solve_here

    with boundary(quiet=False):  # committed, then queued (or solved here)
        plan = request_plan(
            start.date() if start else clock.next_monday(), weeks, scope, time_limit, CLI_ACTOR
        )
        plan = solve_here(plan) if here else queue_solve(plan)
    plan_id, attempt = plan.id, plan.attempt
    quiet = as_json or not sys.stderr.isatty()
    if here:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def work() -> None:
            with app.app_context():
                try:
                    solve(plan_id, attempt)
                finally:
                    db.session.remove()

        solving = threading.Thread(target=work, name=f"plan-{plan_id}", daemon=True)
        solving.start()
        plan = _follow(plan_id, None if quiet else TerminalProgress(), solving.join, hint=False,
                       ended=lambda: not solving.is_alive())
        solving.join()
    else:
        plan = _follow(plan_id, None if quiet else TerminalProgress(), _pause, hint=True)
    if plan.status in (PlanStatus.QUEUED, PlanStatus.RUNNING):  # its solving thread died
        click.echo(f"Error: the solve of plan {plan.id} stopped without recording an outcome "
                   "(see the log above); `sel-time plans` shows it failed once it is overdue",
                   err=True)
        sys.exit(1)
    if plan.status == PlanStatus.FAILED:
        click.echo(f"Error: plan {plan.id} failed: {plan.error}", err=True)
        sys.exit(1)
    if plan.status == PlanStatus.CANCELLED:
        click.echo(f"plan {plan.id} was cancelled; nothing was planned", err=True)
        sys.exit(1)
    report = None
    if do_publish:
        if plan.status != PlanStatus.DRAFT:
            click.echo(f"Error: plan {plan.id} is {plan.status.value}; not published", err=True)
            sys.exit(3)
        report = publish(plan.id, CLI_ACTOR)
    summary = plan_summary(plan)
    if as_json:
        if report is not None:
            summary["publish"] = report.as_dict()
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(plan.id)
        click.echo(
            f"plan {plan.id}: {summary['status']} ({summary['solver_status']}), "
            f"{summary['sessions']} sessions, {summary['team_sessions']} team sessions, "
            f"{summary['shortfall_sessions']} sessions short, "
            f"backfill £{summary['backfill_cost']:,.2f}",
            err=True,
        )
        if report is not None:
            click.echo(report.summary(), err=True)


def _read(plan_id: int) -> Plan:
    """The plan as it stands now (a fresh transaction, kept no longer than the read)."""
    discard()
    plan = db.session.get(Plan, plan_id)
    assert plan is not None
    return plan


def _follow(
    plan_id: int,
    bar: TerminalProgress | None,
    wait: Callable[[float], object],
    *,
    hint: bool,
    ended: Callable[[], bool] = lambda: False,
) -> Plan:
    """Show a plan's progress until its solve ends, and return it (still queued or running
    only if ``ended()`` says whatever solves it has stopped). ``wait(seconds)`` passes the
    time between looks (a sleep, or a join on the thread solving it here). Ctrl-C asks
    for the solve to be cancelled and goes on following it to its end; a second Ctrl-C stops
    waiting (exit 130) and leaves the cancel to finish on its own."""
    from ..core.audit import CLI_ACTOR
    from .tasks import cancel

    started = time.monotonic()
    hinted = asked = False
    while True:
        try:
            gone = ended()  # asked before reading: a solve that ended has recorded its outcome
            plan = _read(plan_id)
            if gone or plan.status not in (PlanStatus.QUEUED, PlanStatus.RUNNING):
                if bar is not None:
                    bar.end()
                return plan
            if bar is not None:
                bar(plan.progress_message or "", float(plan.progress or 0.0))
            if (hint and not hinted and plan.status == PlanStatus.QUEUED
                    and time.monotonic() - started > NO_WORKER_HINT_AFTER):
                hinted = True
                _say(bar, f"plan {plan_id} is still waiting for a worker: is `sel-time worker` "
                     "running? (`sel-time plan --here` solves in this process)")
            wait(FOLLOW_EVERY)
        except KeyboardInterrupt:
            if asked:
                _say(bar, f"stopped waiting; plan {plan_id} is being cancelled "
                     "(`sel-time plans` shows it)")
                sys.exit(130)
            asked = True
            try:
                discard()
                with boundary(quiet=False):
                    cancel(plan_id, CLI_ACTOR)
                _say(bar, f"Ctrl-C: cancelling plan {plan_id}; its solver stops within a "
                     "second or two (Ctrl-C again to stop waiting)")
            except SelTimeError as exc:  # it ended meanwhile: its outcome follows
                _say(bar, f"Ctrl-C: {exc}")


def _say(bar: TerminalProgress | None, words: str) -> None:
    if bar is not None:
        bar.end()
    click.echo(words, err=True)


@command("publish")
@click.argument("plan_ref")
def publish_command(plan_ref: str) -> None:
    """Publish a draft plan (idempotent)."""
    from ..core.audit import CLI_ACTOR
    from .api import get_plan
    from .publishing import publish

    click.echo(publish(get_plan(plan_ref).id, CLI_ACTOR).summary())


@command("plans")
def plans_command() -> None:
    """List plans, newest first."""
    from .serialise import plan_summary

    for plan in db.session.scalars(sa.select(Plan).order_by(Plan.id.desc()).limit(50)):
        s = plan_summary(plan)
        click.echo(
            f"{s['id']:>5}  {s['status']:<11} {s['scope']:<28} {s['start']} +{s['weeks']}w  "
            f"{s['sessions']:>5} sessions  {s['shortfall_sessions']:>4} short  "
            f"£{s['backfill_cost']:>12,.2f}  "
            f"{s['requested_by']}"
        )


@command("export-problem")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="a Monday")
@click.option("--weeks", type=click.IntRange(1, 52), default=12, show_default=True)
@click.option("--scope", default="system", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default="-", help="file (default stdout)"
)
def export_problem_command(start: Any, weeks: int, scope: str, output: str) -> None:
    """Write the solver problem for a horizon, to replay with ``python -m solver``."""
    import json

    from .problem import build_problem
    from .scope import Scope

    built = build_problem(start.date(), weeks, Scope.parse(scope))
    text = json.dumps(built.problem, indent=1)
    if output == "-":
        click.echo(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(
            f"Wrote {output}: {len(built.problem['people'])} people, "
            f"{len(built.problem['commitments'])} commitments, {len(built.problem['slots'])} slots",
            err=True,
        )


@command("export-plan")
@click.argument("plan_ref")
@click.option("--problem", "problem_path", type=click.Path(dir_okay=False), required=True)
@click.option("--solution", "solution_path", type=click.Path(dir_okay=False), required=True)
def export_plan_command(plan_ref: str, problem_path: str, solution_path: str) -> None:
    """Write a plan's exact problem and its plan as it stands (edits included);
    PLAN may be ``published``."""
    import json

    from .api import get_plan
    from .solutions import plan_as_solution

    plan = get_plan(plan_ref)
    if not plan.problem:
        raise SelTimeError(f"Plan {plan.id} has no problem yet", status=409)
    with open(problem_path, "w", encoding="utf-8") as fh:
        json.dump(plan.problem, fh, indent=1)
    with open(solution_path, "w", encoding="utf-8") as fh:
        json.dump(plan_as_solution(plan), fh, indent=1)
    click.echo(f"Wrote plan {plan.id}: {problem_path} and {solution_path}")


@command("plan", group=cancel_group)
@click.argument("plan_ref", metavar="ID")
def cancel_plan_command(plan_ref: str) -> None:
    """Cancel plan ID's queued or running solve (a re-solve leaves its draft as it was)."""
    from ..core.audit import CLI_ACTOR
    from .api import get_plan
    from .tasks import cancel

    plan = cancel(get_plan(plan_ref).id, CLI_ACTOR)
    if plan.status == PlanStatus.RUNNING:
        click.echo(f"plan {plan.id}: cancelling; its solver stops within a second or two "
                   "(`sel-time plans` shows it cancelled)")
    else:
        click.echo(f"plan {plan.id}: cancelled before it started"
                   + ("; the draft is unchanged" if plan.status == PlanStatus.DRAFT else ""))


@command("export-roster")
@click.option("--start", required=True, help="a Monday, as 2027-04-26")
@click.option("--weeks", required=True, help="1 to 52")
@click.option("--problem", "problem_path", required=True, help="file for the problem")
@click.option("--solution", "solution_path", required=True, help="file for the solution")
def export_roster_command(start: str, weeks: str, problem_path: str, solution_path: str) -> None:
    """Write the whole live roster over a horizon, every scope together, as one problem and
    solution pair that ``python -m solver check`` accepts (after a nightly run of many
    parts, or publishes of several scopes)."""
    import json

    from .problem import build_problem, check_horizon
    from .roster_export import live_sessions, roster_paths
    from .scope import Scope
    from .solutions import roster_as_solution

    first, count = _horizon(start, weeks)
    check_horizon(first, count)
    problem_file, solution_file = roster_paths(problem_path, solution_path)
    built = build_problem(first, count, Scope.parse("system"))
    live = live_sessions(built.slots)
    solution, left_out = roster_as_solution(built.problem, live)
    problem_text = json.dumps(built.problem, indent=1)
    solution_text = json.dumps(solution, indent=1)
    try:
        problem_file.write_text(problem_text, encoding="utf-8")
        solution_file.write_text(solution_text, encoding="utf-8")
    except OSError as exc:
        raise SelTimeError(f"Could not write the export: {exc.strerror} ({exc.filename})") from exc
    for words in left_out:
        click.echo(f"left out (the checker would refuse it): {words}", err=True)
    click.echo(
        f"Wrote the live roster {first} +{count}w: {len(solution['sessions'])} sessions and "
        f"{len(solution['team_sessions'])} team sessions from "
        f"{len({s.plan_id for s in live if s.plan_id is not None})} plan(s); "
        f"{problem_file} and {solution_file}"
    )


def _horizon(start: str, weeks: str) -> tuple[Any, int]:
    """--start and --weeks read in words (422 naming the option, exit 2 here)."""
    from datetime import date

    from ..core.errors import FieldError, ValidationError

    errors = []
    try:
        first = date.fromisoformat(start.strip())
    except ValueError:
        first = None
        errors.append(FieldError("--start", f"{start!r} is not a date written as 2027-04-26"))
    try:
        count = int(weeks.strip())
    except ValueError:
        count = 0
        errors.append(FieldError("--weeks", f"{weeks!r} is not a whole number of weeks"))
    else:
        if not 1 <= count <= 52:
            errors.append(FieldError("--weeks", f"{count} is not between 1 and 52"))
    if errors or first is None:
        raise ValidationError("The horizon to export is not right", errors)
    return first, count
