"""What ``sel-time export-roster`` reads: the live roster over a horizon, and the two files it
writes, checked before anything is built."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import ProtectedSession, RosterStatus
from .calendar import SlotInfo


def live_sessions(slots: Mapping[str, SlotInfo]) -> list[ProtectedSession]:
    """Every confirmed session (every scope's) in ``slots``, in slot order."""
    if not slots:
        return []
    starts = [s.start_utc for s in slots.values()]
    return [
        s
        for s in db.session.scalars(
            sa.select(ProtectedSession)
            .where(
                ProtectedSession.status == RosterStatus.CONFIRMED,
                ProtectedSession.start_at >= min(starts),
                ProtectedSession.start_at <= max(starts),
            )
            .options(
                selectinload(ProtectedSession.attendances),
                selectinload(ProtectedSession.team),
                selectinload(ProtectedSession.person),
                selectinload(ProtectedSession.assignment),
            )
            .order_by(ProtectedSession.start_at, ProtectedSession.id)
        )
        if s.slot in slots
    ]


def roster_paths(problem: str, solution: str) -> tuple[Path, Path]:
    """The two files to write: each in a folder that exists, neither a folder, not the same
    file (422 naming the option)."""
    errors = []
    paths = []
    for option, given in (("--problem", problem), ("--solution", solution)):
        path = Path(given)
        if not given.strip():
            errors.append(FieldError(option, "give a file name"))
        elif path.is_dir():
            errors.append(FieldError(option, f"{given} is a folder, not a file"))
        elif not path.resolve().parent.is_dir():
            errors.append(FieldError(option, f"the folder of {given} does not exist"))
        paths.append(path)
    if not errors and paths[0].resolve() == paths[1].resolve():
        errors.append(FieldError("--solution", "the problem and the solution need two files"))
    if errors:
        raise ValidationError("The files to write are not right", errors)
    return paths[0], paths[1]
