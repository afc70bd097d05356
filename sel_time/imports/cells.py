"""Cells to payload values: text, numbers, money, dates, choices and half-days.

Every cell is parsed without backtracking patterns (a half-day is tokenised by hand), so a
long hostile cell costs time linear in its length.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

FORMULA = "formulas are not allowed: paste the values instead"


class Formula:
    """A cell holding a formula (never evaluated)."""


FORMULA_CELL = Formula()


class ErrorCell:
    """A cell holding a spreadsheet error such as #REF!."""

    def __init__(self, code: str) -> None:
        self.code = code


def blank(value: Any) -> bool:
    """Whether a cell is empty or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def column_letter(index: int) -> str:
    """The spreadsheet letters of a column (0 → A, 25 → Z, 26 → AA), past Excel's last too."""
    n, letters = index + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


def column_label(index: int) -> str:
    """How an error names a column with no header: "column C"."""
    return f"column {column_letter(index)}"


class CellError(Exception):
    """A cell that cannot become its field's value; the message says why."""


_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


def half_day(token: str) -> tuple[str, str] | None:
    """("Mon", "AM") from "Mon AM", "monday pm", "Tue/AM", "Wed. PM"; None if not a half-day.

    Plain tokenising, linear in the length of the text: a regular expression with two
    optional runs of spaces here took 15 s on "mon" + 20,000 spaces + "x".
    """
    text = token.strip().lower()
    half = text[-2:]
    if half not in ("am", "pm"):
        return None
    rest = text[:-2].rstrip()
    if rest.endswith("/"):
        rest = rest[:-1].rstrip()
    rest = rest.removesuffix(".")
    day = rest[:3]
    if day not in _DAYS or not _LETTERS.issuperset(rest[3:]):
        return None
    return day.title(), half.upper()


def cell_text(value: Any) -> str:
    """A cell as the text a person reads in it (whole numbers without ".0", ISO dates)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time()
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_date(value: Any) -> date:
    """A date cell, or text such as 2026-03-02 or 02/03/2026."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(f'"{value}" has a time: give a date only')
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    try:
        if m := _ISO_DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _UK_DATE.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        raise CellError(f'"{text}" is not a real date') from None
    raise CellError(f'"{text}" is not a date: write 2026-03-02 or 02/03/2026')


def cell_choice(value: Any, choices: type[Enum]) -> str:
    """The value of the choice a cell names, in any case; else the text, for the schema."""
    text = cell_text(value)
    wanted = re.sub(r"[\s\-]+", "_", text.lower())
    for member in choices:
        if wanted == str(member.value).lower():
            return str(member.value)
    return text  # the schema names the allowed values


def cell_number(value: Any, money: bool = False) -> Any:
    """A number for the schema to check; money as text, without "£" or commas."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value) if money else value
    text = cell_text(value).replace(",", "")
    if money:
        text = text.removeprefix("£").strip()
        try:
            Decimal(text)
        except InvalidOperation:
            raise CellError(f'"{cell_text(value)}" is not an amount in pounds') from None
    return text


def cell_sessions(value: Any) -> list[tuple[str, str]]:
    """Half-days of a working week: ("Mon", "AM") pairs, each once."""
    out: list[tuple[str, str]] = []
    for token in filter(None, (t.strip() for t in re.split(r"[,;]", cell_text(value)))):
        found = half_day(token)
        if found is None:
            raise CellError(f'"{token}" is not a half-day like "Mon AM"')
        if found in out:
            raise CellError(f"{found[0]} {found[1]} is listed twice")
        out.append(found)
    return out


def cell_slots(value: Any) -> list[str]:
    """Half-days a team may meet as "Mon/AM"; a token that is not one is left to the schema."""
    out = []
    for token in filter(None, (t.strip() for t in re.split(r"[,;]", cell_text(value)))):
        found = half_day(token)
        out.append(f"{found[0]}/{found[1]}" if found else token)
    return out

