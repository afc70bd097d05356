"""Reading a request's input the same way on every route: a JSON object body, and whole
numbers and paging from the query string, each fault a 400 naming the field."""

from __future__ import annotations

from typing import Any

from flask import request

from ..core.errors import BadRequest, FieldError


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"{name} must be a whole number", [FieldError(name, "not a whole number")]
        ) from None
    if not lo <= value <= hi:
        raise BadRequest(
            f"{name} must be between {lo} and {hi}", [FieldError(name, f"between {lo} and {hi}")]
        )
    return value


MAX_PER_PAGE = 500


def page_args() -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (default API_PAGE_SIZE, at most 500) of a list, or
    one 400 naming every bad one."""
    from flask import current_app

    default = min(MAX_PER_PAGE, max(1, int(current_app.config.get("API_PAGE_SIZE", 50))))
    errors: list[FieldError] = []
    values = []
    for name, fallback, hi in (("page", 1, 100000), ("per_page", default, MAX_PER_PAGE)):
        try:
            values.append(int_arg(name, fallback, 1, hi))
        except BadRequest as exc:
            errors += exc.errors
    if errors:
        raise BadRequest("Some query parameters are not valid", errors)
    return values[0], values[1]


def json_body() -> Any:
    if not request.is_json:
        raise BadRequest(
            "Send a JSON body with Content-Type: application/json", [FieldError("body", "not JSON")]
        )
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser will follow
        payload = None
    if payload is None:
        raise BadRequest("The body is not valid JSON", [FieldError("body", "not valid JSON")])
    return payload
