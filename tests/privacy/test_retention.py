"""Retention: each rule deletes what is older than its period, a dry run deletes nothing, a
period of 0 keeps for ever, a table not in this installation is skipped, and a new rule is one
line."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.models import AuditEvent, LoginFailure
from sel_time.privacy.retention import RetentionRule, apply_retention

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def _seed() -> None:
    for days in (1, 29, 31, 400, 2189, 2191):
        at = NOW - timedelta(days=days)
        db.session.add(AuditEvent(at=at, actor="cli", action="update", entity="people",
                                  entity_id="1"))
        db.session.add(AuditEvent(at=at, actor="sign-in form", action="sign_in_failed",
                                  entity="user", entity_id=None))
        db.session.add(LoginFailure(key_hash=f"{days:064d}", at=at))
    db.session.commit()


def _count(model: type, *where: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_each_rule_deletes_only_what_is_older_than_its_period(app: Flask) -> None:
    _seed()
    results = apply_retention(NOW)
    db.session.commit()
    by_label = {r.rule.label: r for r in results}
    assert by_label["audit trail"].rows == 2  # 2191 days: an update and a failed sign-in
    assert by_label["failed sign-ins in the audit trail"].rows == 3  # 31, 400, 2189 days
    assert by_label["failed sign-ins"].rows == 4
    assert by_label["survey invitations (person and link emptied)"].rows == 0  # none closed
    assert _count(AuditEvent, AuditEvent.action == "update") == 5
    assert _count(AuditEvent, AuditEvent.action == "sign_in_failed") == 2
    assert _count(LoginFailure) == 2


def test_a_dry_run_counts_and_deletes_nothing(app: Flask) -> None:
    _seed()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["sel-time", "retention", "apply", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "failed sign-ins (login_failure): kept 30 days; would delete" in dry.output
    assert ("survey invitations (person and link emptied) (survey_invitation): kept 365 days; "
            "would empty 0 rows") in dry.output
    db.session.expire_all()
    assert _count(AuditEvent) == 12 and _count(LoginFailure) == 6
    done = runner.invoke(args=["sel-time", "retention", "apply"])
    assert done.exit_code == 0, done.output
    assert "deleted" in done.output
    db.session.expire_all()
    assert _count(LoginFailure) < 6


def test_zero_keeps_for_ever_and_a_new_rule_is_one_line(app: Flask) -> None:
    _seed()
    app.config["RETAIN_AUDIT_DAYS"] = 0
    app.config["RETAIN_FAILED_SIGN_INS_DAYS"] = 0
    results = apply_retention(NOW)
    assert all(r.rows == 0 for r in results)
    assert _count(AuditEvent) == 12
    app.config["RETAIN_PROBE_DAYS"] = 100
    rule = RetentionRule("login_failure", "at", "RETAIN_PROBE_DAYS", "probe")
    [result] = apply_retention(NOW, rules=[rule])
    assert result.rows == 3  # 400, 2189 and 2191 days
    app.config["RETAIN_PROBE_DAYS"] = -1
    with pytest.raises(ValueError, match="RETAIN_PROBE_DAYS"):
        apply_retention(NOW, rules=[rule])
