"""What a kind of directory record is (its model, schemas, how to apply a request and how to
show a record), and the money conversions its fields use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..core.errors import FieldError, ValidationError
from ..core.extensions import db


def pence(value: Decimal | float | None) -> int | None:
    return None if value is None else int((Decimal(str(value)) * 100).quantize(Decimal("1")))


def gbp(value: int | None) -> float | None:
    return None if value is None else value / 100


class _Refs:
    """Collects referential faults so that one response names all of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def get(self, model: type, ident: int | None, field_name: str, label: str) -> Any:
        if ident is None:
            return None
        obj = db.session.get(model, ident)
        if obj is None:
            self.errors.append(FieldError(field_name, f"no {label} with id {ident}"))
        return obj

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError("Some references are not valid", self.errors)


@dataclass(frozen=True)
class Entity:
    """How one kind of record is validated, applied, shown and searched."""

    name: str
    label: str
    # Any mapped class with an integer ``id``: a typing.Protocol cannot express a mapped column
    # (Mapped[int] on the class, int on an instance), so its attributes are untyped.
    model: type[Any]
    create_schema: type[BaseModel]
    patch_schema: type[BaseModel]
    out_schema: type[BaseModel]
    to_dict: Callable[[Any], dict[str, Any]]
    apply: Callable[[Any, dict[str, Any], bool], None]
    unique: tuple[tuple[str, ...], ...] = ()
    filters: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ("id",)
    owner: str | None = field(default=None)  # column naming the person a leader must be


def _set(obj: Any, data: dict[str, Any], *names: str) -> None:
    for name in names:
        if name in data:
            setattr(obj, name, data[name])
