"""A small collecting reader of JSON: every fault is kept with the JSON path of the offending
value, e.g. ``people[3].available: unknown slot "2026-13-01/AM"``, and raised together as
one :class:`ProblemError`."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from solver.model import (
    Pin,
    PreviousEntry,
)

JSONObject = dict[str, Any]  # a JSON object as read: its values are checked one by one


Entry = TypeVar("Entry", Pin, PreviousEntry)


MAX_NUMBER = 1_000_000_000  # GBP or a count: anything larger is a mistake, and CP-SAT needs int64


class ProblemError(ValueError):
    """The input is not a valid problem (or solution); `errors` has one line per fault."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def load_json(path: str | Path) -> Any:
    """Read a JSON file; unreadable or invalid JSON becomes a one-line ProblemError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError([f"{path}: cannot read file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise ProblemError([f"{path}: not UTF-8 text"]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(
            [f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"]
        ) from None
    except RecursionError:
        raise ProblemError([f"{path}: JSON nested too deeply to be a problem"]) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python will convert
        raise ProblemError([f"{path}: invalid JSON: {exc}"]) from None


def _q(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Reader:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def obj(self, value: Any, path: str) -> JSONObject | None:
        if not isinstance(value, dict):
            self.err(path, f"expected an object, got {_kind(value)}")
            return None
        return value

    def lst(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.err(path, f"expected a list, got {_kind(value)}")
            return None
        return value

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.err(path, f"expected a non-empty string, got {_kind(value)}")
            return None
        return value

    def opt_string(self, d: JSONObject, key: str, path: str) -> str | None:
        if key not in d or d[key] is None:
            return None
        return self.string(d[key], f"{path}.{key}")

    def integer(self, value: Any, path: str, minimum: int | None = 0) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(path, f"expected an integer, got {_kind(value)}")
            return None
        if minimum is not None and value < minimum:
            word = "negative" if minimum == 0 else f"below {minimum}"
            self.err(path, f"{word} value {value}")
            return None
        return value

    def number(self, value: Any, path: str, what: str = "value") -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            self.err(path, f"expected a number, got {_kind(value)}")
            return None
        if value < 0:
            self.err(path, f"negative {what} {value}")
            return None
        if value > MAX_NUMBER:
            self.err(path, f"{what} {value:.6g} is too large (at most {MAX_NUMBER:,.0f})")
            return None
        return float(value)

    def day(self, value: Any, path: str) -> date | None:
        if not isinstance(value, str):
            self.err(path, f"expected a date YYYY-MM-DD, got {_kind(value)}")
            return None
        try:
            return date.fromisoformat(value) if len(value) == 10 else _bad_date()
        except ValueError:
            self.err(path, f"not a date YYYY-MM-DD: {_q(value)}")
            return None

    def local_time(self, value: Any, path: str) -> datetime | None:
        if not isinstance(value, str):
            self.err(path, f"expected a local date-time YYYY-MM-DDTHH:MM, got {_kind(value)}")
            return None
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            self.err(path, f"not a local date-time YYYY-MM-DDTHH:MM: {_q(value)}")
            return None
        if dt.tzinfo is not None:
            self.err(path, f"must be a local time without offset: {_q(value)}")
            return None
        return dt


def _bad_date() -> date:
    raise ValueError("bad date")


def _items(
    r: _Reader, root: JSONObject, key: str, required: bool = False
) -> list[tuple[str, JSONObject]]:
    """The objects of a top-level list, with their paths."""
    if key not in root or root[key] is None:
        if required:
            r.err(key, "missing")
        return []
    items = r.lst(root[key], key)
    if items is None:
        return []
    out = []
    for i, item in enumerate(items):
        d = r.obj(item, f"{key}[{i}]")
        if d is not None:
            out.append((f"{key}[{i}]", d))
    return out


def _unique_id(r: _Reader, d: JSONObject, path: str, seen: dict[str, str]) -> str | None:
    if "id" not in d:
        r.err(f"{path}.id", "missing")
        return None
    ident = r.string(d["id"], f"{path}.id")
    if ident is None:
        return None
    if ident in seen:
        r.err(f"{path}.id", f"duplicate id {_q(ident)} (first at {seen[ident]})")
        return None
    seen[ident] = path
    return ident


def _slot_ref(r: _Reader, value: Any, path: str, slot_ids: set[str]) -> str | None:
    s = r.string(value, path)
    if s is not None and s not in slot_ids:
        r.err(path, f"unknown slot {_q(s)}")
        return None
    return s
