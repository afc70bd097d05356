"""``sel-time plan|publish|plans|export-problem|export-plan``."""

from __future__ import annotations

import sys
from typing import Any

import click
import sqlalchemy as sa

from ..core import clock
from ..core.commands import TerminalProgress, command
from ..core.errors import SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary


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
def plan_command(
    start: Any, weeks: int, scope: str, time_limit: float | None, do_publish: bool, as_json: bool
) -> None:
    """Plan protected time for a horizon; print the plan's id."""
    import json

    from ..core.audit import CLI_ACTOR
    from .planning import request_plan, run_plan
    from .publishing import publish
    from .serialise import plan_summary

    with boundary(quiet=False):  # queued and committed before it solves
        plan = request_plan(
            start.date() if start else clock.next_monday(), weeks, scope, time_limit, CLI_ACTOR
        )
    quiet = as_json or not sys.stderr.isatty()
    try:
        plan = run_plan(plan.id, progress=None if quiet else TerminalProgress())
    except SelTimeError:
        raise
    except Exception as exc:  # recorded on the plan; say so plainly
        click.echo(f"\nError: plan {plan.id} failed: {exc}", err=True)
        sys.exit(1)
    if not quiet:
        click.echo("", err=True)
    report = None
    if do_publish:
        if plan.status.value != "draft":
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
    from ..models import Plan
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
