"""``sel-time costs|whatif|cancel whatif``: backfill cost summaries and what-if projections."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask.cli import with_appcontext

from ..core.commands import cancel_group, cli, command
from ..core.errors import SelTimeError
from ..core.transaction import discard


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
    from . import backfill, exports

    try:
        groups = backfill.parse_groupings(by)
        f = first.date() if first else None
        t = last.date() if last else None
        if fmt == "xlsx":
            if not output:
                raise SelTimeError("--format xlsx needs -o FILE")
            with open(output, "wb") as fh:
                fh.write(exports.to_xlsx(groups, f, t, organisation))
            click.echo(f"Wrote {output}")
            return
        summary = backfill.summarise(groups, f, t, organisation)
        text = exports.to_csv(summary) if fmt == "csv" else exports.table(summary)
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

    from ..core.validation import field_errors
    from .schemas import WhatIfRequest
    from .whatif import check_request, run_whatif

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


@command("whatif", group=cancel_group)
@click.argument("run_ref", metavar="ID")
def cancel_whatif_command(run_ref: str) -> None:
    """Cancel what-if run ID while it is queued or running."""
    from ..core.audit import CLI_ACTOR
    from ..models import WhatIfStatus
    from .tasks import cancel

    run = cancel(run_ref, CLI_ACTOR)
    if run.status == WhatIfStatus.RUNNING:
        click.echo(f"what-if {run.id}: cancelling; its solver stops within a second or two")
    else:
        click.echo(f"what-if {run.id}: cancelled before it started")
