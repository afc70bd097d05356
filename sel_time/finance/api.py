"""Finance under ``/api/v1/costs``: summaries, CSV/XLSX exports and what-if projections."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request, url_for

from ..api import bp
from ..api.inputs import json_body
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS
from ..api.openapi import json_response as _json
from ..api.openapi import problem_response as _problem
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.cache import VersionedCache
from ..core.errors import BadRequest, FieldError
from ..core.transaction import boundary, transactional
from ..core.validation import date_in_range, parse
from ..models import UserRole, WhatIfRun, WhatIfStatus
from . import backfill, exports, tasks
from .schemas import WhatIfRequest
from .whatif import get_run, recent_runs, request_whatif, run_dict

FINANCE = (UserRole.ADMIN, UserRole.FINANCE, UserRole.ROTA_MANAGER)


def _period() -> tuple[date | None, date | None]:
    out = []
    for name in ("from", "to"):
        raw = request.args.get(name)
        try:
            out.append(date_in_range(raw) if raw else None)
        except ValueError as exc:
            raise BadRequest(
                f"{name} is not a date sel-time can use", [FieldError(name, str(exc))]
            ) from None
    return out[0], out[1]


def _query() -> backfill.Summary:
    first, last = _period()
    by = backfill.parse_groupings(request.args.get("by", "organisation"))
    return backfill.summarise(by, first, last, request.args.get("organisation") or None)


SUMMARIES = VersionedCache()


@bp.get("/costs")
@transactional
def costs() -> Response:
    require_user(FINANCE)
    key = tuple(request.args.get(k) for k in ("by", "from", "to", "organisation"))
    return jsonify(SUMMARIES.get(key, lambda: backfill.summary_json(_query())))


@bp.get("/costs/export")
@transactional
def costs_export() -> Response:
    require_user(FINANCE)
    fmt = request.args.get("format", "csv")
    first, last = _period()
    by = backfill.parse_groupings(request.args.get("by", "organisation"))
    org = request.args.get("organisation") or None
    stem = "sel-time-backfill-" + "-".join(by)
    if fmt == "csv":
        body = exports.to_csv(backfill.summarise(by, first, last, org)).encode("utf-8-sig")
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            exports.to_xlsx(by, first, last, org),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    raise BadRequest("Unknown format", [FieldError("format", "csv or xlsx")])


def _run_json(run: WhatIfRun) -> dict[str, Any]:
    return {
        **run_dict(run),
        "links": {
            "self": url_for("api.show_whatif", ident=run.id),
            "page": url_for("web.whatif_run_page", run_id=run.id),
        },
    }


@bp.post("/costs/whatif")
@transactional
def whatif() -> tuple[Response, int, dict[str, str]]:
    """Queue a what-if (checked at once: 422 naming the field) and start it; 202 with the run,
    which ``Location`` follows to its progress and result."""
    user = require_user(FINANCE)
    req = WhatIfRequest.model_validate(parse(WhatIfRequest, json_body()))
    with boundary():  # committed, then queued for a worker
        run = tasks.queue_run(request_whatif(req, Actor.for_user(user)))
    run = get_run(run.id)
    return jsonify(_run_json(run)), 202, {"Location": url_for("api.show_whatif", ident=run.id)}


@bp.post("/costs/whatif/<ident>/cancel")
@transactional
def cancel_whatif(ident: str) -> tuple[Response, int]:
    """Cancel a queued or running what-if: 202 with the run (a running one stops within a
    second or two: follow its status)."""
    user = require_user(FINANCE)
    return jsonify(_run_json(tasks.cancel(ident, Actor.for_user(user)))), 202


@bp.get("/costs/whatif")
@transactional
def list_whatifs() -> Response:
    """The latest what-if runs (up to 100), newest first; ``status`` filters."""
    require_user(FINANCE)
    status = None
    if "status" in request.args:
        try:
            status = WhatIfStatus(request.args["status"])
        except ValueError:
            raise BadRequest(
                "Unknown status",
                [FieldError("status", "one of " + ", ".join(x.value for x in WhatIfStatus))],
            ) from None
    return jsonify({"items": [_run_json(run) for run in recent_runs(status)]})


@bp.get("/costs/whatif/<ident>")
@transactional
def show_whatif(ident: str) -> Response:
    require_user(FINANCE)
    return jsonify(_run_json(get_run(ident)))


EXTRA_MODELS.append(WhatIfRequest)
_PARAMS = [
    {
        "name": "by",
        "in": "query",
        "schema": {"type": "string"},
        "description": "comma-separated: " + ", ".join(backfill.GROUPINGS),
    },
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {
        "name": "organisation",
        "in": "query",
        "schema": {"type": "string"},
        "description": "organisation code",
    },
]
_ERR = {
    "400": _problem("Bad request"),
    "401": _problem("Not signed in"),
    "403": _problem("Role not allowed"),
    "422": _problem("Invalid fields"),
}
_R = {
    "200": _json(
        {
            "type": "object",
            "required": ["by", "from", "to", "rows", "totals"],
            "properties": {
                "by": {"type": "array", "items": {"type": "string"}},
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "rows": {"type": "array", "items": {"type": "object"}},
                "totals": {"type": "object"},
            },
        }
    ),
    **_ERR,
}
_EXPORT = {
    "200": {
        "description": "The summary as a file",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    },
    **_ERR,
}
_STR_OR_NULL = {"type": ["string", "null"]}
_WHATIF_RESULT = {
    "type": "object",
    "required": ["baseline", "scenario", "delta", "annualised_delta"],
    "properties": {
        "start": {"type": "string", "format": "date"},
        "weeks": {"type": "integer"},
        "scope": {"type": "string"},
        "changes": {"type": "object"},
        "baseline": {"type": "object"},
        "scenario": {"type": "object"},
        "delta": {"type": "object"},
        "annualised_delta": {"type": "number"},
        "baseline_at_new_rates": {
            "type": "object",
            "description": "with a rate change: the baseline's own sessions priced at the new "
            "rates",
            "required": ["backfill_cost", "delta", "annualised_delta"],
            "properties": {
                "backfill_cost": {"type": "number"},
                "delta": {"type": "number"},
                "annualised_delta": {"type": "number"},
            },
        },
    },
}
_WHATIF_RUN = {
    "type": "object",
    "required": ["id", "status", "progress", "progress_message", "result", "error", "links"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": [x.value for x in WhatIfStatus]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "progress_message": _STR_OR_NULL,
        "request": {"type": "object"},
        "result": {"oneOf": [{"type": "null"}, _WHATIF_RESULT]},
        "summary": {"type": "string", "description": "the changes in words"},
        "error": _STR_OR_NULL,
        "requested_by": {"type": "string"},
        "created_at": {"type": "string"},
        "started_at": _STR_OR_NULL,
        "finished_at": _STR_OR_NULL,
        "links": {
            "type": "object",
            "required": ["self", "page"],
            "properties": {"self": {"type": "string"}, "page": {"type": "string"}},
        },
    },
}
_WHATIF = {
    "202": {
        **_json(_WHATIF_RUN, "Queued (or, with PLAN_SYNCHRONOUS, finished); follow Location"),
        "headers": {"Location": {"schema": {"type": "string"}, "description": "the run"}},
    },
    **_ERR,
}
_WHATIF_SHOW = {
    "200": _json(_WHATIF_RUN, "The run: its progress, and its result once done"),
    **_ERR,
    "404": _problem("No such run"),
}
EXTRA_PATHS["/api/v1/costs"] = {
    "get": {
        "tags": ["finance"],
        "summary": "Planned, delivered and budget backfill cost",
        "parameters": _PARAMS,
        "responses": _R,
    }
}
EXTRA_PATHS["/api/v1/costs/export"] = {
    "get": {
        "tags": ["finance"],
        "summary": "CSV or XLSX export",
        "parameters": _PARAMS
        + [
            {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "xlsx"]}}
        ],
        "responses": _EXPORT,
    }
}
EXTRA_PATHS["/api/v1/costs/whatif/{ident}/cancel"] = {
    "post": {
        "tags": ["finance"],
        "summary": "Cancel a queued or running what-if",
        "parameters": [
            {"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {**_WHATIF_SHOW, "202": _WHATIF_SHOW["200"]},
    }
}
EXTRA_PATHS["/api/v1/costs/whatif/{ident}"] = {
    "get": {
        "tags": ["finance"],
        "summary": "A what-if run: progress, then the result",
        "parameters": [
            {"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": _WHATIF_SHOW,
    }
}
_WHATIF_LIST = {
    "200": _json(
        {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _WHATIF_RUN}},
        },
        "The latest runs, newest first",
    ),
    **_ERR,
}
EXTRA_PATHS["/api/v1/costs/whatif"] = {
    "get": {
        "tags": ["finance"],
        "summary": "The latest what-if runs (up to 100), newest first",
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "schema": {"type": "string", "enum": [x.value for x in WhatIfStatus]},
            }
        ],
        "responses": _WHATIF_LIST,
    },
    "post": {
        "tags": ["finance"],
        "summary": "Queue a projection of the cost of a policy change (planned in a sandbox)",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/WhatIfRequest"}}
            },
        },
        "responses": _WHATIF,
    },
}
