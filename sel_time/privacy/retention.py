"""How long personal data is kept: a list of rules, each a table, the column that dates a row,
the setting holding its period in days, and optionally which rows it applies to. A rule whose
table is not in this installation is skipped; a period of 0 keeps rows for ever. Add a rule to
keep a new table in check. :func:`apply_retention` deletes what is older (flushes, never
commits); ``sel-time retention apply [--dry-run]`` and the nightly run call it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..core.extensions import db


@dataclass(frozen=True)
class RetentionRule:
    table: str
    age_column: str
    setting: str  # a config key holding the period in days (SEL_TIME_<setting without RETAIN_>)
    label: str
    # Only rows whose ``column`` is one of ``values`` (the outbox keeps what is still to send).
    only_column: str | None = None
    only_values: tuple[str, ...] = ()
    # Instead of deleting rows older than the cutoff, this (rows changed, or in a dry run that
    # would be): for rows a result still counts, whose personal part is emptied instead.
    custom: Callable[[datetime, bool], int] | None = None


SIGN_IN_ACTIONS = ("sign_in_failed", "sign_in_throttled")
RULES: list[RetentionRule] = [
    RetentionRule("audit_event", "at", "RETAIN_AUDIT_DAYS", "audit trail"),
    RetentionRule("audit_event", "at", "RETAIN_FAILED_SIGN_INS_DAYS",
                  "failed sign-ins in the audit trail", "action", SIGN_IN_ACTIONS),
    RetentionRule("login_failure", "at", "RETAIN_FAILED_SIGN_INS_DAYS", "failed sign-ins"),
    RetentionRule("mail_message", "created_at", "RETAIN_OUTBOX_DAYS", "e-mail outbox",
                  "status", ("sent", "failed")),
    RetentionRule("survey_invitation", "wave's closing day", "RETAIN_SURVEY_INVITATIONS_DAYS",
                  "survey invitations (person and link emptied)",
                  custom=lambda cutoff, dry_run: _pseudonymise_invitations(cutoff, dry_run)),
]


def _pseudonymise_invitations(cutoff: datetime, dry_run: bool) -> int:
    """Invitations to waves closed before ``cutoff`` lose their person and personal link; the
    rows stay (the response rate and the groups' sizes are counted from them), coarse
    attributes and whether they answered only."""
    table = db.metadata.tables["survey_invitation"]
    waves = db.metadata.tables["survey_wave"]
    closed = sa.select(waves.c.id).where(waves.c.status == "closed",
                                         waves.c.closes_on < cutoff.date())
    where = [table.c.wave_id.in_(closed), table.c.person_id.is_not(None)]
    if dry_run:
        return int(db.session.scalar(
            sa.select(sa.func.count()).select_from(table).where(*where)) or 0)
    ids = list(db.session.scalars(sa.select(table.c.id).where(*where)))
    for row_id in ids:  # a link no one can use: a fresh random hash, no nonce
        db.session.execute(sa.update(table).where(table.c.id == row_id).values(
            person_id=None, nonce="", token_hash=secrets.token_hex(32)))
    return len(ids)


@dataclass(frozen=True)
class RetentionResult:
    rule: RetentionRule
    days: int
    cutoff: datetime | None  # None: kept for ever, or the table is not here
    rows: int  # deleted (or, in a dry run, that would be)
    present: bool = True

    def line(self, dry_run: bool) -> str:
        what = f"{self.rule.label} ({self.rule.table})"
        if not self.present:
            return f"{what}: not in this installation, skipped"
        if self.cutoff is None:
            return f"{what}: kept for ever ({self.rule.setting} is 0)"
        if self.rule.custom is not None:
            verb = "would empty" if dry_run else "emptied"
        else:
            verb = "would delete" if dry_run else "deleted"
        return (f"{what}: kept {self.days} days; {verb} {self.rows} rows dated before "
                f"{self.cutoff:%Y-%m-%d %H:%M} UTC")


def period_days(rule: RetentionRule, config: Mapping[str, Any] | None = None) -> int:
    config = current_app.config if config is None else config
    try:
        days = int(config.get(rule.setting, 0) or 0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{rule.setting} must be a whole number of days") from exc
    if days < 0:
        raise ValueError(f"{rule.setting} must be 0 (keep for ever) or more days")
    return days


def apply_retention(now: datetime, *, dry_run: bool = False,
                    rules: Sequence[RetentionRule] | None = None,
                    config: Mapping[str, Any] | None = None) -> list[RetentionResult]:
    """Delete the rows each rule finds older than its period at ``now`` (in a dry run, count
    them). Flushes, never commits: the caller's transaction keeps all of it or none."""
    from ..operations.events import PENDING
    from .erasure import rows_changed

    results = []
    for rule in RULES if rules is None else rules:
        table = db.metadata.tables.get(rule.table)
        days = period_days(rule, config)
        if table is None or (rule.custom is None and rule.age_column not in table.c):
            results.append(RetentionResult(rule, days, None, 0, present=False))
            continue
        if days == 0:
            results.append(RetentionResult(rule, 0, None, 0))
            continue
        cutoff = now - timedelta(days=days)
        if rule.custom is not None:
            results.append(RetentionResult(rule, days, cutoff, rule.custom(cutoff, dry_run)))
            continue
        where = [table.c[rule.age_column] < sa.bindparam(
            "cutoff", cutoff, type_=table.c[rule.age_column].type)]
        if rule.only_column:
            where.append(table.c[rule.only_column].in_(rule.only_values))
        if dry_run:
            rows = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(*where))
        else:
            rows = rows_changed(sa.delete(table).where(*where))
            if rows:  # counted in the metrics once the caller commits
                db.session.info.setdefault(PENDING, []).append(("retention", (rule.table, rows)))
        results.append(RetentionResult(rule, days, cutoff, int(rows or 0)))
    db.session.flush()
    return results
