"""Organisations and departments as records: applying a request, and the record as JSON."""

from __future__ import annotations

from typing import Any

from ..models import (
    Department,
    Organisation,
)
from .entity import _Refs, _set


def _apply_organisation(obj: Organisation, data: dict[str, Any], creating: bool) -> None:
    _set(obj, data, "code", "name", "kind", "borough", "auto_publish")


def _organisation_dict(o: Organisation) -> dict[str, Any]:
    return {
        "id": o.id,
        "code": o.code,
        "name": o.name,
        "kind": o.kind.value,
        "borough": o.borough.value,
        "auto_publish": o.auto_publish,
    }


def _apply_department(obj: Department, data: dict[str, Any], creating: bool) -> None:
    refs = _Refs()
    refs.get(Organisation, data.get("organisation_id"), "organisation_id", "organisation")
    refs.raise_if_any()
    _set(obj, data, "code", "name", "organisation_id", "max_away")


def _department_dict(d: Department) -> dict[str, Any]:
    return {
        "id": d.id,
        "code": d.code,
        "name": d.name,
        "organisation_id": d.organisation_id,
        "max_away": d.max_away,
    }
