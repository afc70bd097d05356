"""Validating requests: the shared field types and the ``Strict`` base of every request
schema (API, pages and spreadsheet import alike), and ``parse``, which turns every fault into
a :class:`~sel_time.core.errors.FieldError` naming the field."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from .errors import FieldError, ValidationError

Code = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="stable key: letters, digits, - _ .",
    ),
]
OrgCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="stable lowercase key: letters, digits, - _ .",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A reference to another record: bounded so that no database is asked about an id it cannot hold.
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Money = Annotated[
    Decimal,
    Field(
        ge=0, le=Decimal("100000000"), decimal_places=2, description="GBP, at most 2 decimal places"
    ),
]
Day = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
SLOT_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)/(AM|PM)$")


# Dates a query may name: wide enough for any roster, narrow enough that no arithmetic on them
# (a day or a year either side, a month's end) leaves the calendar.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def date_in_range(raw: str) -> date:
    """``raw`` as a date from EARLIEST_DATE to LATEST_DATE; ValueError saying why otherwise."""
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("use YYYY-MM-DD, like 2027-01-31") from None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"a date from {EARLIEST_DATE} to {LATEST_DATE}")
    return value


class Strict(BaseModel):
    """Every request schema: no unknown fields, and every number finite (NaN and infinity,
    which JSON parsers and float() accept, are refused naming the field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def parse(schema: type[BaseModel], payload: Any, *, partial: bool = False) -> dict[str, Any]:
    """Validate ``payload`` against ``schema``; every fault becomes a FieldError."""
    if not isinstance(payload, dict):
        raise ValidationError(
            "The body must be a JSON object", [FieldError("body", "expected an object")]
        )
    nul = [FieldError(path or "body", "contains a NUL character") for path in _nul_paths(payload)]
    if nul:  # PostgreSQL cannot store NUL in text; refuse it here on every database alike
        raise ValidationError("Some fields are not valid", nul)
    try:
        model = schema.model_validate(payload)
    except PydanticError as exc:
        raise ValidationError("Some fields are not valid", field_errors(exc)) from None
    return model.model_dump(exclude_unset=partial)


def _nul_paths(payload: Any) -> list[str]:
    """Dotted paths of every string (key or value) in ``payload`` that holds a NUL character.

    Iterative, so that a deeply nested body cannot exhaust the stack."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if "\x00" in str(k):
                    found.append(sub)
                else:
                    stack.append((sub, v))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(value))
    return sorted(found)


def field_errors(exc: PydanticError) -> list[FieldError]:
    """Pydantic's errors as FieldErrors; a whole-record rule names its field as "field: why"."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if loc == "body" and ": " in msg:
            loc, msg = msg.split(": ", 1)
        context = {k: str(v) for k, v in (err.get("ctx") or {}).items() if k != "error"}
        if err.get("input") in ("", None):
            context["blank"] = "yes"
        out.append(
            FieldError(loc, msg, kind=str(err["type"]), context=tuple(sorted(context.items())))
        )
    return out
