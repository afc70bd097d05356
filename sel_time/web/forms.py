"""Turn a record's pydantic schema into an HTML form and a submitted form back into the
payload the API would receive, so the pages validate exactly as the API does."""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import WEEKDAYS, Department, LeadershipRole, Organisation, Person, Team
from .formats import label

# Foreign keys shown as a choice of names.
REFERENCES: dict[str, type] = {
    "organisation_id": Organisation,
    "host_organisation_id": Organisation,
    "department_id": Department,
    "person_id": Person,
    "role_id": LeadershipRole,
    "funding_role_id": LeadershipRole,
    "team_id": Team,
    "lead_person_id": Person,
}
LIST_HINTS = {
    "member_ids": "Members: one per line, by email address",
    "allowed_slots": (
        'Half-days the team may meet, comma separated, like "Wed/PM, Thu/AM" (blank: any)'
    ),
}
# The working pattern: for each weekday's morning and afternoon, whether it is worked and how,
# as the planner reads it (clinical: available, with backfill; non-clinical: available, with
# no backfill; not worked: never planned).
PATTERN_HINT = (
    "For each half-day of a normal week: clinical work (protected time there needs backfill), "
    "non-clinical work (no backfill needed) or not working (never planned)"
)
PATTERN_CHOICES = (
    ("", "Not working"),
    ("clinical", "Clinical work"),
    ("non_clinical", "Non-clinical work"),
)
HALVES = (("AM", "morning"), ("PM", "afternoon"))
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))


def pattern_key(day: str, half: str) -> str:
    """The form field of one half-day of the working pattern: ``pattern-Mon-AM``."""
    return f"pattern-{day}-{half}"


def pattern_days() -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(day, day name, [(field, half, label)]) for the working pattern's form."""
    return [
        (day, DAY_NAMES[day],
         [(pattern_key(day, half), half, f"{DAY_NAMES[day]} {words}") for half, words in HALVES])
        for day in WEEKDAYS
    ]


def form_defaults(fields: list[Field]) -> dict[str, str]:
    """What a new record's form shows before anything is typed: the working pattern a new
    person gets (clinical work every weekday morning and afternoon)."""
    if not any(f.kind == "pattern" for f in fields):
        return {}
    return pattern_values({"day": d, "half": h, "kind": "clinical"}
                          for d in WEEKDAYS[:5] for h, _ in HALVES)


def pattern_form() -> dict[str, Any]:
    """What the form template needs to draw the working pattern."""
    days = pattern_days()
    return {
        "pattern_days": days,
        "pattern_choices": PATTERN_CHOICES,
        "pattern_fields": [key for _, _, halves in days for key, _, _ in halves],
    }


def pattern_values(pattern: Iterable[dict[str, Any]]) -> dict[str, str]:
    """A stored pattern (``[{"day": "Mon", "half": "AM", "kind": "clinical"}, ...]``) as the
    form's fields."""
    return {
        pattern_key(str(p["day"]), str(getattr(p["half"], "value", p["half"]))):
            str(getattr(p["kind"], "value", p["kind"]))
        for p in pattern
    }


def _pattern_from_form(form: Any) -> list[dict[str, str]] | None:
    """The pattern the form's half-day choices describe; ``None`` if the form has none (left
    as it is). A choice that is not one of the three is refused, in words naming the half-day."""
    keys = [(day, half, key) for day, _, halves in pattern_days() for key, half, _ in halves]
    if not any(key in form for _, _, key in keys):
        return None
    allowed = {code for code, _ in PATTERN_CHOICES}
    out, errors = [], []
    for day, half, key in keys:
        kind = (form.get(key) or "").strip()
        if kind not in allowed:
            words = dict(HALVES)[half]
            errors.append(FieldError(key, f"Choose clinical work, non-clinical work or not "
                                          f"working for {DAY_NAMES[day]} {words}"))
        elif kind:
            out.append({"day": day, "half": half, "kind": kind})
    if errors:
        raise ValidationError("The working pattern is not complete", errors)
    return out


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text, number, date, select, textarea, checkbox
    required: bool
    options: list[tuple[str, str]]
    hint: str | None


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, optional?) of ``X | None``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _label(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def reference_options(model: type) -> list[tuple[str, str]]:
    """(id, name) choices for a reference; a department is named with its organisation, since
    several organisations have a "Clinical Team" or an "Adult Social Care"."""
    if model is Department:
        named = db.session.execute(
            sa.select(Department.id, Department.name, Organisation.name)
            .join(Organisation, Department.organisation_id == Organisation.id)
            .order_by(Department.name, Organisation.name)
        ).all()
        return [(str(i), f"{name} ({org})") for i, name, org in named]
    label = LeadershipRole.title if model is LeadershipRole else model.name  # type: ignore[attr-defined]
    rows = db.session.execute(sa.select(model.id, label).order_by(label)).all()  # type: ignore[attr-defined]
    return [(str(i), n) for i, n in rows]


def fields_for(schema: type[BaseModel], skip: tuple[str, ...] = ()) -> list[Field]:
    out = []
    for name, info in schema.model_fields.items():
        if name in skip:
            continue
        inner, optional = _unwrap(info.annotation)
        required = info.is_required()
        hint = info.description
        if name in REFERENCES:
            out.append(
                Field(
                    name,
                    _label(name),
                    "select",
                    required,
                    reference_options(REFERENCES[name]),
                    hint,
                )
            )
        elif name == "pattern":
            out.append(Field(name, "Working pattern", "pattern", False, [], PATTERN_HINT))
        elif name in LIST_HINTS:
            out.append(Field(name, _label(name), "textarea", False, [], LIST_HINTS[name]))
        elif isinstance(inner, type) and issubclass(inner, enum.Enum):
            out.append(
                Field(
                    name,
                    _label(name),
                    "select",
                    required,
                    [(m.value, label(m)) for m in inner],
                    hint,
                )
            )
        elif typing.get_origin(inner) is typing.Literal:
            out.append(
                Field(
                    name,
                    _label(name),
                    "select",
                    required,
                    [(v, v) for v in typing.get_args(inner)],
                    hint,
                )
            )
        elif inner is bool:
            out.append(Field(name, _label(name), "checkbox", False, [], hint))
        elif getattr(inner, "__name__", "") == "date":
            out.append(Field(name, _label(name), "date", required, [], hint))
        elif (
            inner in (int, float)
            or getattr(inner, "__origin__", None) is None
            and "Decimal" in str(inner)
        ):
            out.append(Field(name, _label(name), "number", required, [], hint))
        else:
            out.append(Field(name, _label(name), "text", required, [], hint))
    return out


def form_values(obj_dict: dict[str, Any]) -> dict[str, str]:
    """A record as the strings its form shows."""
    out: dict[str, str] = {}
    for k, v in obj_dict.items():
        if v is None:
            out[k] = ""
        elif k == "member_ids":
            emails = db.session.scalars(sa.select(Person.email).where(Person.id.in_(v))).all()
            out[k] = "\n".join(sorted(emails))
        elif k == "allowed_slots":
            out[k] = ", ".join(v)
        elif k == "pattern":
            out.update(pattern_values(v))
        elif isinstance(v, bool):
            out[k] = "on" if v else ""
        else:
            out[k] = str(v)
    return out


def payload_from_form(fields: list[Field], form: Any, *, partial: bool) -> dict[str, Any]:
    """The JSON payload the API would get for this form; blank optional fields are omitted
    (or cleared when editing)."""
    payload: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkbox":
            payload[f.name] = form.get(f.name) == "on"
            continue
        if f.kind == "pattern":
            pattern = _pattern_from_form(form)
            if pattern is not None:
                payload[f.name] = pattern
            continue
        raw = (form.get(f.name) or "").strip()
        if f.name == "member_ids":
            emails = [e.strip().lower() for e in raw.replace(",", "\n").splitlines() if e.strip()]
            ids = dict(
                db.session.execute(
                    sa.select(Person.email, Person.id).where(Person.email.in_(emails))
                ).all()
            )
            payload[f.name] = [ids.get(e, e) for e in emails]
            continue
        if f.name == "allowed_slots":
            payload[f.name] = [s.strip() for s in raw.split(",") if s.strip()] or None
            continue
        if raw == "":
            if f.required:
                payload[f.name] = ""  # the schema names what is missing
            elif partial:
                payload[f.name] = None  # cleared
            continue
        if f.kind == "number" or f.name in REFERENCES:
            try:
                payload[f.name] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                payload[f.name] = raw
        else:
            payload[f.name] = raw
    return payload


# -- validation in words: what the error summary and the fields say ----------------------------

# Fields named by their page label where it is not the field's own name in words.
FIELD_LABELS = {
    "start": "first day",
    "weeks": "number of weeks",
    "time_limit": "solver time",
    "rate_change_percent": "rate rise",
    "ent_profession": "profession",
    "ent_min_band": "lowest band",
    "ent_amount": "number of sessions",
    "ent_per": "period",
    "role_title": "role title",
    "role_amount": "number of new sessions",
    "role_per": "period",
    "email": "email address",
    "fte": "whole-time equivalent",
    "max_per_day": "most sessions a day",
    "max_per_week": "most sessions a week",
    "start_half": "starting half-day",
    "end_half": "ending half-day",
    "scope": "scope",
    "member_ids": "members",
    "lead_person_id": "team lead",
    "allowed_slots": "half-days the team may meet",
}
CHOICES = {"enum", "literal_error"}
NUMBERS = {
    "int_parsing",
    "int_type",
    "float_parsing",
    "float_type",
    "decimal_parsing",
    "decimal_type",
}
DATES = {
    "date_parsing",
    "date_type",
    "date_from_datetime_parsing",
    "date_from_datetime_inexact",
    "datetime_parsing",
    "datetime_type",
    "datetime_from_date_parsing",
}
EXAMPLE_DATE = "for example 18 1 2027"


def field_label(name: str) -> str:
    """A field as its page names it, in lower case: ``start_date`` → ``start date``."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    parts = [p for p in name.replace("-", ".").split(".") if not p.isdigit()]
    base = parts[-1] if parts else name
    return FIELD_LABELS.get(base) or _label(base).lower()


def _article(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def sentence(error: FieldError) -> str:
    """One fault as a plain sentence naming the field by its label, never validator text."""
    what = field_label(error.field)
    context = dict(error.context)
    kind = error.kind
    if kind is None:  # a service's own words: keep them, with the field's name if they need it
        text = error.message
        span = re.fullmatch(r"between (\S+) and (\S+)", text)
        if span:
            return f"Enter {_article(what)} from {span.group(1)} to {span.group(2)}"
        return text if text[:1].isupper() else f"{what.capitalize()}: {text}"
    blank = kind == "missing" or context.get("blank") == "yes"
    if kind in CHOICES or (blank and error.field in REFERENCES):
        return f"Choose {_article(what)}" if blank else f"Choose {_article(what)} from the list"
    dated = blank and (error.field.endswith("_date") or error.field == "start")
    if kind in DATES or "YYYY-MM-DD" in error.message or dated:
        if blank:
            return f"Enter {_article(what)}, {EXAMPLE_DATE}"
        return f"{what.capitalize()} must be a real date, {EXAMPLE_DATE}"
    if blank or (kind == "string_too_short" and context.get("min_length") == "1"):
        return f"Enter {_article(what)}"
    if kind == "int_from_float":
        return f"{what.capitalize()} must be a whole number"
    if kind == "finite_number":
        return f"{what.capitalize()} must be a finite number, for example 12"
    if kind in NUMBERS:
        return f"{what.capitalize()} must be a number"
    bounds = {
        "greater_than_equal": ("ge", "{} or more"),
        "greater_than": ("gt", "more than {}"),
        "less_than_equal": ("le", "{} or less"),
        "less_than": ("lt", "less than {}"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"{what.capitalize()} must be {words.format(context.get(key, ''))}"
    if kind == "string_too_long":
        return f"{what.capitalize()} must be {context.get('max_length')} characters or fewer"
    if kind == "string_pattern_mismatch":
        return f"{what.capitalize()} can only have letters, numbers, dots, dashes and underscores"
    if kind == "value_error" and "email" in error.message:
        return "Enter an email address in the correct format, like name@nhs.net"
    if kind == "value_error" and not error.message.startswith(("Input should", "Value error")):
        return f"{what.capitalize()}: {error.message}"
    return f"Check the {what}"


def in_words(errors: Iterable[FieldError] | None) -> list[FieldError]:
    """``errors`` with every message a plain sentence (the pages' one validation layer)."""
    return [FieldError(e.field, sentence(e), e.row) for e in errors or ()]
