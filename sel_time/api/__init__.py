"""The JSON REST API under ``/api/v1``."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint

from ..extensions import db, rollback_quietly

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])


def transactional(view: F) -> F:
    """One transaction per request: commit when the view returns, roll back if it raises."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            rollback_quietly()
            raise

    return wrapper  # type: ignore[return-value]


# Route modules register on ``bp`` when imported (in this order, which is the OpenAPI
# document's); a feature package's API routes (``imports.api``) are listed with them.
from . import costs  # noqa: E402,F401
from ..imports import api as import_routes  # noqa: E402,F401
from . import jobs, openapi, plans, resources, tokens  # noqa: E402,F401
