"""``sel-time survey ...``, ``sel-time programme create`` and ``sel-time board-report``:
each command one transaction (the ``command`` wrapper of :mod:`sel_time.cli`)."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask import current_app

from ..core.audit import CLI_ACTOR, SCHEDULER_ACTOR
from ..core.clock import today_london
from ..core.commands import cli, command
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import Team
from . import board, mailing, results, surveys, training
from .bank import BANK, seed_bank
from .models import Invitation
from .suppression import DEFAULT_K, checked_k

DAY = click.DateTime(formats=["%Y-%m-%d"])
F = TypeVar("F", bound=Callable[..., Any])


def _k() -> int:
    return checked_k(int(current_app.config.get("SURVEY_MIN_GROUP", DEFAULT_K)))


def _days(raw: str) -> int | None:
    """An option's days: 'none' for none; not a whole number as -1 (refused in words)."""
    raw = raw.strip().lower()
    if raw in ("", "none"):
        return None
    return int(raw) if raw.isdigit() else -1


@cli.group()
def survey() -> None:
    """Anonymous baseline and pulse surveys: build, open waves, remind, read results."""


def _survey_command(name: str) -> Callable[[F], F]:
    """A ``sel-time survey NAME`` command, one transaction like every other."""

    def decorate(fn: F) -> F:
        wrapped = command(name)(fn)
        registered = cli.commands.pop(name)  # under ``survey``, not at the top level
        survey.add_command(registered, name)
        return wrapped

    return decorate


@_survey_command("bank")
def bank_command() -> None:
    """List the question bank (and store it, if it is not stored yet)."""
    seed_bank()
    for code, theme, kind, text, _ in BANK:
        click.echo(f"{code:26} {theme:26} {kind.value:8} {text}")


@_survey_command("create")
@click.option("--title", required=True)
@click.option("--cadence", default="once", show_default=True,
              help="once, monthly, quarterly, half_yearly or yearly")
@click.option("--question", "questions", multiple=True, required=True, help="a bank code")
@click.option("--days-open", default=14, show_default=True, type=int)
@click.option("--first-opens-on", type=DAY, default=None, help="a pulse's first wave")
@click.option("--remind-after-days", default=str(surveys.REMIND_AFTER_DAYS), show_default=True,
              help="nightly reminder this many days after a wave opens ('none': no such one)")
@click.option("--remind-before-days", default=str(surveys.REMIND_BEFORE_DAYS),
              show_default=True,
              help="nightly reminder this many days before a wave's last day ('none': no such one)")
def create_command(title: str, cadence: str, questions: tuple[str, ...], days_open: int,
                   first_opens_on: datetime | None, remind_after_days: str,
                   remind_before_days: str) -> None:
    """Build a survey from bank questions."""
    first = first_opens_on.date() if first_opens_on is not None else None
    s = surveys.create_survey(title, cadence, list(questions), CLI_ACTOR, days_open=days_open,
                              first_opens_on=first,
                              remind_after_days=_days(remind_after_days),
                              remind_before_days=_days(remind_before_days))
    click.echo(f"Survey {s.id}: {s.title} ({len(s.questions)} questions)")


@_survey_command("open")
@click.argument("survey_id", type=int)
def open_command(survey_id: int) -> None:
    """Open the survey's next wave today and invite everyone by e-mail."""
    wave, messages = surveys.open_wave(surveys.get_survey(survey_id), today_london(), CLI_ACTOR)
    queued = mailing.send(messages, "survey_invitation")
    click.echo(f"Wave {wave.number} (id {wave.id}) open until {wave.closes_on}: "
               f"{len(messages)} invited, {queued} e-mails queued")


@_survey_command("close")
@click.argument("wave_id", type=int)
def close_command(wave_id: int) -> None:
    """Close a wave (its results can then be read)."""
    wave = surveys.close_wave(surveys.get_wave(wave_id), CLI_ACTOR)
    click.echo(f"Wave {wave.number} of '{wave.survey.title}' closed")


@_survey_command("remind")
@click.argument("wave_id", type=int)
def remind_command(wave_id: int) -> None:
    """E-mail a reminder to everyone invited to an open wave who has not answered."""
    messages = surveys.reminders(surveys.get_wave(wave_id))
    click.echo(f"{len(messages)} reminders, {mailing.send(messages, 'survey_reminder')} queued")


@_survey_command("links")
@click.argument("wave_id", type=int)
def links_command(wave_id: int) -> None:
    """Print e-mail address and personal link of everyone who has not answered (CSV), for
    sending by other means."""
    wave = surveys.get_wave(wave_id)
    for inv in db.session.scalars(sa.select(Invitation).where(
            Invitation.wave_id == wave.id, Invitation.responded.is_(False),
            Invitation.person_id.is_not(None)).order_by(Invitation.id)):
        assert inv.person is not None
        click.echo(f"{inv.person.email},{surveys.invitation_link(inv)}")


@_survey_command("open-due")
@click.option("--today", type=DAY, default=None, help="default: today in London")
def open_due_command(today: datetime | None) -> None:
    """The nightly part: close waves past their day, open recurring waves that are due, and
    send the reminders whose day has come."""
    day = today.date() if today is not None else today_london()
    opened, messages = surveys.open_due_waves(day, SCHEDULER_ACTOR)
    reminded = surveys.send_due_reminders(day)
    click.echo(f"{len(opened)} waves opened, {len(messages)} invitations queued, "
               f"{len(reminded)} reminders queued")


@_survey_command("results")
@click.argument("wave_id", type=int)
def results_command(wave_id: int) -> None:
    """The published (suppressed) results of a closed wave, as JSON."""
    click.echo(json.dumps(results.wave_results(surveys.get_wave(wave_id), _k()), indent=2))


@command("programme-create")
@click.option("--name", required=True)
@click.option("--kind", default="system_course", show_default=True,
              help="leadership_academy or system_course")
@click.option("--team", "team_code", required=True, help="code of a training-cohort team")
@click.option("--module", "modules", multiple=True, required=True, help="module titles, in order")
@click.option("--complete", type=int, default=None, help="modules to attend to complete")
def programme_create_command(name: str, kind: str, team_code: str, modules: tuple[str, ...],
                             complete: int | None) -> None:
    """Create a training programme for a training-cohort team."""
    team = db.session.scalar(sa.select(Team).where(Team.code == team_code))
    if team is None:
        raise ValidationError("Unknown team", [FieldError("team", f"no team {team_code}")])
    p = training.create_programme(name, kind, team.id, list(modules), complete, CLI_ACTOR)
    click.echo(f"Programme {p.id}: {p.name} ({len(p.modules)} modules)")


@command("board-report")
@click.option("--from", "first", type=DAY, required=True)
@click.option("--to", "last", type=DAY, required=True)
@click.option("-o", "--output", required=True, help="a .xlsx, .pdf or .json file")
def board_report_command(first: datetime, last: datetime, output: str) -> None:
    """Write the board report for a period."""
    r = board.board_report(first.date(), last.date(), _k())
    path = Path(output)
    if path.suffix == ".xlsx":
        path.write_bytes(board.board_xlsx(r))
    elif path.suffix == ".pdf":
        path.write_bytes(board.board_pdf(r))
    elif path.suffix == ".json":
        path.write_text(json.dumps(r, indent=2), encoding="utf-8")
    else:
        raise ValidationError("Unknown output", [FieldError("output", ".xlsx, .pdf or .json")])
    click.echo(f"Board report {first:%Y-%m-%d} to {last:%Y-%m-%d} written to {path}")

