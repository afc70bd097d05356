"""The exception hierarchy of sel-time, mapped once to ``application/problem+json``.

Services raise these; the API turns them into RFC 9457 problem documents naming every
offending field, and the web pages into an error summary. Nothing else reaches the user.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One fault in a request: where it is (a dotted path, a row and column) and what is wrong.
    ``kind`` and ``context`` keep what a validator found (pydantic's error type and limits) so
    that pages can say it in words; the API does not show them."""

    field: str
    message: str
    row: int | None = None
    # ``dataclasses.field``: the attribute ``field`` above shadows the function for mypy.
    kind: str | None = dataclasses.field(default=None, compare=False)
    context: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class SelTimeError(Exception):
    """Base of every error a user can cause; ``status`` is the HTTP status it maps to."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400
    title: str = "Bad request"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        lines = [self.detail] + [
            (f"row {e.row}, " if e.row is not None else "") + f"{e.field}: {e.message}"
            for e in self.errors
        ]
        return "\n".join(lines)

    def as_problem(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


class ValidationError(SelTimeError):
    """The request is well formed but its values break a rule (422)."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 422, "Unprocessable content")


class BadRequest(SelTimeError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 400, "Bad request")


class NotFound(SelTimeError):
    def __init__(self, detail: str = "Not found") -> None:
        super().__init__(detail, [], 404, "Not found")


class Conflict(SelTimeError):
    """The change clashes with what is stored (a duplicate key, an overlapping leave)."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 409, "Conflict")


class TooBusy(SelTimeError):
    """A cap on work at once is reached (429); ``retry_after`` seconds is worth waiting."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None,
                 retry_after: int = 30) -> None:
        super().__init__(detail, errors or [], 429, "Too many requests")
        self.retry_after = retry_after


class Unauthorised(SelTimeError):
    def __init__(self, detail: str = "Authentication required") -> None:
        super().__init__(detail, [], 401, "Unauthorised")


class Forbidden(SelTimeError):
    def __init__(self, detail: str = "Your role does not allow this") -> None:
        super().__init__(detail, [], 403, "Forbidden")


# Constraints that stop two requests racing past a service's own check (both saw no clash,
# both wrote): what the one that lost is told, naming the field. Keyed by the constraint's
# name (PostgreSQL) or by SQLite's wording of the same unique index.
RACE_CONSTRAINTS: dict[str, tuple[str, str, str]] = {
    "ex_absence_no_overlap": (
        "start_date", "This overlaps leave of the same person that was just recorded",
        "overlaps other leave of this person"),
    "ex_role_assignment_no_overlap": (
        "start_date", "This person already holds the role for some of these dates",
        "overlaps another holding of this role by this person"),
    "uq_protected_session_live_assignment_slot": (
        "plan", "Another publish has just put this session in the roster; publish again",
        "a live session for this assignment in this slot already exists"),
    "uq_protected_session_live_team_slot": (
        "plan", "Another publish has just put this team session in the roster; publish again",
        "a live session for this team in this slot already exists"),
    "protected_session.assignment_id, protected_session.slot": (
        "plan", "Another publish has just put this session in the roster; publish again",
        "a live session for this assignment in this slot already exists"),
    "protected_session.team_id, protected_session.slot": (
        "plan", "Another publish has just put this team session in the roster; publish again",
        "a live session for this team in this slot already exists"),
}


def race_conflict(exc: BaseException) -> Conflict | None:
    """The 409 for a database refusal by one of :data:`RACE_CONSTRAINTS`, else None."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    names = [getattr(diag, "constraint_name", None) or "", str(orig)]
    for key, (field_name, detail, message) in RACE_CONSTRAINTS.items():
        if any(key and key in n for n in names):
            return Conflict(detail, [FieldError(field_name, message)])
    return None
