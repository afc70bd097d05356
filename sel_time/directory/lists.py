"""The directory's lists that have a menu item of their own: role assignments, departments and
leave (people, roles and teams are in pages.py); each is the one directory page."""

from __future__ import annotations

from flask import Response

from ..web import MANAGERS, bp, roles_required
from .pages import directory


@bp.get("/manage/assignments", endpoint="assignments")
@roles_required(*MANAGERS)
def assignments() -> Response:
    return directory("assignments")  # type: ignore[return-value]


@bp.get("/manage/departments", endpoint="departments")
@roles_required(*MANAGERS)
def departments() -> Response:
    return directory("departments")  # type: ignore[return-value]


@bp.get("/manage/leave", endpoint="leave")
@roles_required(*MANAGERS)
def leave() -> Response:
    return directory("leave")  # type: ignore[return-value]
