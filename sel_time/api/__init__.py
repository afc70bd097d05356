"""The JSON REST API under ``/api/v1``."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


# Route modules register on ``bp`` when imported (in this order, which is the OpenAPI
# document's); a feature package's API routes (``imports.api``) are listed with them.
from ..imports import api as import_routes  # noqa: E402,F401
from ..progress import api as progress_routes  # noqa: E402,F401
from . import (  # noqa: E402,F401
    costs,  # noqa: E402,F401
    jobs,
    openapi,
    plans,
    resources,
    tokens,
)
