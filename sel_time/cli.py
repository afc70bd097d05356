"""The ``sel-time`` command line (also ``flask sel-time ...``). Each command is one
transaction: it commits once at the end, or rolls back and says why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask.cli import AppGroup, FlaskGroup, NoAppException, with_appcontext

from .core.errors import SelTimeError
from .core.extensions import db
from .core.transaction import boundary, discard

F = TypeVar("F", bound=Callable[..., Any])

cli = AppGroup(
    "sel-time", help="Rostered protected time for clinical and care professional leaders."
)


def command(name: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """A CLI command run in one transaction; a SelTimeError becomes a clear message and exit 2."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                with boundary(quiet=False):
                    return fn(*args, **kw)
            except SelTimeError as exc:
                click.echo(f"Error: {exc}", err=True)
                sys.exit(2)

        return cli.command(name, **kwargs)(with_appcontext(wrapper))  # type: ignore[return-value]

    return decorate


@cli.group()
def token() -> None:
    """Create, list and revoke API bearer tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="email of the user the token acts for")
@click.option("--name", default="cli", show_default=True, help="a label for the token")
@click.option(
    "--days",
    type=int,
    default=None,
    help="days the token works for (default and most: SEL_TIME_TOKEN_DAYS, 90)",
)
@with_appcontext
def token_create(email: str, name: str, days: int | None) -> None:
    """Print a new token for a user (it is shown once and stored only as a hash); its expiry
    goes to standard error, so that standard output is the token alone."""
    from .core.audit import CLI_ACTOR
    from .core.auth import issue_api_token
    from .models import User

    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        click.echo(f"Error: no user with email {email}", err=True)
        sys.exit(2)
    try:
        with boundary(quiet=False):
            row, secret = issue_api_token(user, name, days, CLI_ACTOR)
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(secret)
    click.echo(
        f"Token {row.prefix}… for {user.email} expires {row.expires_at:%Y-%m-%d %H:%M} UTC",
        err=True,
    )


@token.command("list")
@click.option("--user", "email", default=None, help="only this user's tokens")
@with_appcontext
def token_list(email: str | None) -> None:
    """List tokens: prefix, user, name, status, expiry and last use (never the secret)."""
    from .core.auth import token_status
    from .models import ApiToken, User

    query = sa.select(ApiToken).join(User).order_by(User.email, ApiToken.id)
    if email:
        query = query.where(User.email == email.lower())
    rows = db.session.scalars(query).all()
    if not rows:
        click.echo("No tokens")
    for row in rows:
        used = f"{row.last_used_at:%Y-%m-%d %H:00}" if row.last_used_at else "never"
        click.echo(
            f"{row.prefix}…  {row.user.email}  {row.name}  {token_status(row)}  "
            f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC  last used {used}"
        )


@token.command("revoke")
@click.argument("token_or_prefix")
@with_appcontext
def token_revoke(token_or_prefix: str) -> None:
    """Revoke a token, given the token itself or its printed prefix."""
    from .core.audit import CLI_ACTOR, record
    from .core.auth import revoke_api_token

    try:
        with boundary(quiet=False):
            row = revoke_api_token(token_or_prefix)
            record(CLI_ACTOR, "revoke", "api_token", row.id, None, {"prefix": row.prefix})
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Revoked token {row.prefix}… of {row.user.email}")


DEMO_PASSWORDS = {
    "admin@sel-time.demo": "demo-admin-pass",
    "rota@sel-time.demo": "demo-rota-pass",
    "finance@sel-time.demo": "demo-finance-pass",
}
DEMO_LEADER_PASSWORD = "demo-leader-pass"


@command("demo")
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="first Monday of the demo's leave data (default: next Monday)",
)
def demo_command(start: Any) -> None:
    """Load the south-east-London demo system into an empty database. Refused with production
    settings: the demo's users have passwords printed in the README."""
    from datetime import timedelta

    from flask import current_app
    from werkzeug.security import generate_password_hash

    from .core.audit import CLI_ACTOR, record
    from .core.clock import today_london
    from .demo import load_demo
    from .models import User, UserRole

    env = current_app.config.get("SEL_TIME_ENV", "production")
    if env == "production":
        raise SelTimeError(
            "sel-time demo is refused with production settings: it gives users passwords "
            "anyone can read in the README. Run it with SEL_TIME_ENV=development (make demo "
            "does) on a database of its own"
        )
    first = start.date() if start else None
    if first is None:
        today = today_london()
        first = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    summary = load_demo(db.session(), start=first)  # the scoped session's current one
    for user in db.session.scalars(sa.select(User)):
        password = DEMO_PASSWORDS.get(
            user.email, DEMO_LEADER_PASSWORD if user.role == UserRole.LEADER else None
        )
        if password and user.password_hash is None:
            user.password_hash = generate_password_hash(password)
    record(CLI_ACTOR, "import", "demo", None, None, {"summary": str(summary)})
    click.echo(f"Loaded the south-east-London demo: {summary}")
    click.echo("Demo accounts (email / password):")
    for user in db.session.scalars(sa.select(User).order_by(User.role, User.email)):
        password = DEMO_PASSWORDS.get(user.email, DEMO_LEADER_PASSWORD)
        click.echo(f"  {user.role.value:<13} {user.email:<40} {password}")


@command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["people", "roles", "assignments", "leave", "teams"]),
    default=None,
    help="what a CSV file holds (default: from its name or header)",
)
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
def import_command(path: str, kind: str | None, dry_run: bool) -> None:
    """Import staff, roles, assignments, leave or teams from CSV or XLSX (all rows or none)."""
    from pathlib import Path

    from .core.audit import CLI_ACTOR
    from .imports import import_file

    data = Path(path).read_bytes()
    show = _TerminalProgress()
    try:
        report = import_file(
            data, Path(path).name, CLI_ACTOR, kind=kind, dry_run=dry_run, progress=show
        )
    finally:
        show.end()
    click.echo(report.summary())


def main() -> None:
    """Entry point of the ``sel-time`` console command. Every command runs with production
    settings unless ``SEL_TIME_ENV`` says otherwise; ``sel-time run`` (the development server)
    defaults to development settings and says so."""
    import os

    from . import create_app
    from .core.startup import ENV_VARIABLE, ConfigurationError, describe

    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    if words[:1] == ["run"] and ENV_VARIABLE not in os.environ:
        os.environ[ENV_VARIABLE] = "development"
        click.echo(
            "sel-time run: the development server, with development settings "
            "(production: gunicorn -c gunicorn.conf.py wsgi:app)",
            err=True,
        )

    def build() -> Any:
        try:
            return create_app()
        except ConfigurationError as error:  # click prints it as "Error: ..." and exits 2
            raise NoAppException(describe(error)) from None

    group = FlaskGroup(create_app=build, help=cli.help)
    for name, cmd in cli.commands.items():
        group.add_command(cmd, name)
    group(prog_name="sel-time")


def next_monday() -> Any:
    """The Monday after today (Europe/London)."""
    from datetime import timedelta

    from .core.clock import today_london

    today = today_london()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


class _TerminalProgress:
    """A one-line progress bar on stderr for long work (solves, imports)."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, message: str, fraction: float) -> None:
        width = 30
        done = int(max(0.0, min(1.0, fraction)) * width)
        line = f"\r[{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}% {message[:60]:<60}"
        if line != self.last:
            click.echo(line, nl=False, err=True)
            self.last = line

    def end(self) -> None:
        """End the bar's line, if one was drawn, so what follows starts on its own."""
        if self.last:
            click.echo("", err=True)
            self.last = ""


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

    from .core.audit import CLI_ACTOR
    from .plans.planning import plan_summary, request_plan, run_plan
    from .plans.publishing import publish

    with boundary(quiet=False):  # queued and committed before it solves
        plan = request_plan(
            start.date() if start else next_monday(), weeks, scope, time_limit, CLI_ACTOR
        )
    quiet = as_json or not sys.stderr.isatty()
    try:
        plan = run_plan(plan.id, progress=None if quiet else _TerminalProgress())
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
    from .core.audit import CLI_ACTOR
    from .plans.api import get_plan
    from .plans.publishing import publish

    click.echo(publish(get_plan(plan_ref).id, CLI_ACTOR).summary())


@command("plans")
def plans_command() -> None:
    """List plans, newest first."""
    from .models import Plan
    from .plans.planning import plan_summary

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

    from .plans.scheduling import Scope, build_problem

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

    from .plans.api import get_plan
    from .plans.planning import plan_as_solution

    plan = get_plan(plan_ref)
    if not plan.problem:
        raise SelTimeError(f"Plan {plan.id} has no problem yet", status=409)
    with open(problem_path, "w", encoding="utf-8") as fh:
        json.dump(plan.problem, fh, indent=1)
    with open(solution_path, "w", encoding="utf-8") as fh:
        json.dump(plan_as_solution(plan), fh, indent=1)
    click.echo(f"Wrote plan {plan.id}: {problem_path} and {solution_path}")


@command("export-ics")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
def export_ics_command(out_dir: str) -> None:
    """Write every feed of the published roster to files: people/, teams/, departments/,
    organisations/ (each named so a person can find theirs)."""
    import time
    from pathlib import Path

    from .feeds.service import all_feeds, rendered_feeds

    started = time.monotonic()
    total = len(all_feeds())
    with click.progressbar(
        rendered_feeds(), length=total, label="Rendering feeds", file=sys.stderr
    ) as bar:
        for _kind, _target_id, name, feed in bar:
            path = Path(out_dir) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(feed.body)
    click.echo(f"Wrote {total} feeds to {out_dir} in {time.monotonic() - started:.1f} s")


@command("feed-link")
@click.option("--user", "email", required=True, help="the user the link is issued to")
@click.option(
    "--kind", type=click.Choice(["person", "team", "department", "organisation"]), default="person"
)
@click.option(
    "--target",
    "target_id",
    type=int,
    default=None,
    help="id of the team, department or organisation (default: the user's own person)",
)
def feed_link_command(email: str, kind: str, target_id: int | None) -> None:
    """Print a new secret feed URL for a user (older links of theirs to that feed stop working)."""
    from .core.audit import CLI_ACTOR
    from .feeds.routes import feed_url
    from .feeds.service import issue_token
    from .models import FeedKind, User

    user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
    if user is None:
        raise SelTimeError(f"No user with email {email}")
    if target_id is None:
        if user.person_id is None:
            raise SelTimeError("Give --target: this user is not linked to a person")
        target_id = user.person_id
    _, secret = issue_token(user, FeedKind(kind), target_id, CLI_ACTOR)
    urls = feed_url(secret)
    click.echo(urls["url"])
    click.echo(urls["webcal"], err=True)


@cli.command("refresh")
@click.option("--force", is_flag=True, help="run again even if tonight's refresh succeeded")
@with_appcontext
def refresh_command(force: bool) -> None:
    """Run the nightly refresh once, now, in this process, under the same guard as the
    scheduler's (one run per night: another one running is said, not waited for)."""
    from .nightly.refresh import refresh

    try:
        result = refresh("manual", force=force, progress=lambda m: click.echo(m, err=True))
    except sa.exc.DBAPIError as exc:  # the database went away mid-run and did not come back
        discard()
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(
            f"Error: the refresh did not complete: the database could not be reached ({reason}); "
            "last night's roster is unchanged; run it again when the database is back",
            err=True,
        )
        sys.exit(1)
    click.echo(result.message)
    if result.ran and result.message.startswith("The refresh failed"):
        sys.exit(1)


@cli.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler process: it queues the nightly refresh at 02:00 Europe/London for a
    worker (more than one scheduler is harmless: the night is claimed once, in the database)."""
    from flask import current_app

    from .nightly.scheduler import run_scheduler

    click.echo(
        "sel-time scheduler: queues the nightly refresh at 02:00 Europe/London; Ctrl-C to stop",
        err=True,
    )
    try:
        run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    except (KeyboardInterrupt, SystemExit):
        click.echo("scheduler stopped", err=True)


@cli.command("costs")
@click.option(
    "--by",
    default="organisation",
    show_default=True,
    help="comma-separated groupings: organisation, department, profession, staff_group, role, "
    "team, budget_code, month, quarter, year",
)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--organisation", default=None, help="organisation code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="file (xlsx needs one)"
)
@with_appcontext
def costs_command(
    by: str, first: Any, last: Any, organisation: str | None, fmt: str, output: str | None
) -> None:
    """Backfill cost: planned vs delivered vs budget, grouped for finance."""
    from .finance import backfill

    try:
        groups = backfill.parse_groupings(by)
        f = first.date() if first else None
        t = last.date() if last else None
        if fmt == "xlsx":
            if not output:
                raise SelTimeError("--format xlsx needs -o FILE")
            with open(output, "wb") as fh:
                fh.write(backfill.to_xlsx(groups, f, t, organisation))
            click.echo(f"Wrote {output}")
            return
        summary = backfill.summarise(groups, f, t, organisation)
        text = backfill.to_csv(summary) if fmt == "csv" else backfill.table(summary)
    except SelTimeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    finally:
        discard()  # read-only: nothing to keep
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"Wrote {output}")
    else:
        click.echo(text)


@cli.command("whatif")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def whatif_command(scenario: str) -> None:
    """Project the cost of a policy change described in a JSON file (see README).

    Runs in the foreground, in one transaction that writes nothing: progress on stderr (the
    baseline, then the scenario), the result as JSON on stdout."""
    import json

    from pydantic import ValidationError as PydanticError

    from .directory.records import field_errors
    from .finance.whatif import WhatIfRequest, check_request, run_whatif

    def progress(message: str, fraction: float) -> None:
        click.echo(f"[{fraction:4.0%}] {message}", err=True)

    try:
        with open(scenario, encoding="utf-8") as fh:
            req = WhatIfRequest.model_validate(json.load(fh))
        check_request(req)
        result = run_whatif(req, progress)
    except PydanticError as exc:
        for e in field_errors(exc):
            click.echo(f"Error: {e.field}: {e.message}", err=True)
        sys.exit(2)
    except (SelTimeError, json.JSONDecodeError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    finally:
        discard()  # a what-if writes nothing
    click.echo(json.dumps(result, indent=2))


# Feature packages' command groups (registered here, so that ``sel-time`` lists them too).
from .mail.cli import mail as mail_commands  # noqa: E402

cli.add_command(mail_commands)
