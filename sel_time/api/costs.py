"""Finance under ``/api/v1/costs``: summaries, CSV/XLSX exports and what-if projections."""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request

from .. import finance
from ..auth import require_user
from ..errors import BadRequest, FieldError
from ..models import UserRole
from ..services.cache import VersionedCache
from ..services.records import parse
from ..whatif import WhatIfRequest, run_whatif
from . import bp, transactional
from .openapi import EXTRA_MODELS, EXTRA_PATHS, _json, _problem
from .resources import _json_body

FINANCE = (UserRole.ADMIN, UserRole.FINANCE, UserRole.ROTA_MANAGER)


def _period() -> tuple[date | None, date | None]:
    out = []
    for name in ("from", "to"):
        raw = request.args.get(name)
        try:
            out.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            raise BadRequest(f"{name} is not a date", [FieldError(name, "use YYYY-MM-DD")]) from None
    return out[0], out[1]


def _query() -> finance.Summary:
    first, last = _period()
    by = finance.parse_groupings(request.args.get("by", "organisation"))
    return finance.summarise(by, first, last, request.args.get("organisation") or None)


SUMMARIES = VersionedCache()


@bp.get("/costs")
@transactional
def costs() -> Response:
    require_user(FINANCE)
    key = tuple(request.args.get(k) for k in ("by", "from", "to", "organisation"))
    return jsonify(SUMMARIES.get(key, lambda: finance.summary_json(_query())))


@bp.get("/costs/export")
@transactional
def costs_export() -> Response:
    require_user(FINANCE)
    fmt = request.args.get("format", "csv")
    first, last = _period()
    by = finance.parse_groupings(request.args.get("by", "organisation"))
    org = request.args.get("organisation") or None
    stem = "sel-time-backfill-" + "-".join(by)
    if fmt == "csv":
        body = finance.to_csv(finance.summarise(by, first, last, org)).encode("utf-8-sig")
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    if fmt == "xlsx":
        return Response(finance.to_xlsx(by, first, last, org),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})
    raise BadRequest("Unknown format", [FieldError("format", "csv or xlsx")])


@bp.post("/costs/whatif")
@transactional
def whatif() -> Response:
    require_user(FINANCE)
    req = WhatIfRequest.model_validate(parse(WhatIfRequest, _json_body()))
    return jsonify(run_whatif(req))


EXTRA_MODELS.append(WhatIfRequest)
_PARAMS = [
    {"name": "by", "in": "query", "schema": {"type": "string"},
     "description": "comma-separated: " + ", ".join(finance.GROUPINGS)},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "organisation", "in": "query", "schema": {"type": "string"}, "description": "organisation code"},
]
_ERR = {"400": _problem("Bad request"), "401": _problem("Not signed in"),
        "403": _problem("Role not allowed"), "422": _problem("Invalid fields")}
_R = {"200": _json({"type": "object", "required": ["by", "from", "to", "rows", "totals"], "properties": {
    "by": {"type": "array", "items": {"type": "string"}}, "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"}, "rows": {"type": "array", "items": {"type": "object"}},
    "totals": {"type": "object"}}}), **_ERR}
_EXPORT = {"200": {"description": "The summary as a file", "content": {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
    **_ERR}
_WHATIF = {"200": _json({"type": "object", "required": ["baseline", "scenario"], "properties": {
    "baseline": {"type": "object"}, "scenario": {"type": "object"}}}), **_ERR}
EXTRA_PATHS["/api/v1/costs"] = {"get": {"tags": ["finance"], "summary": "Planned, delivered and budget backfill cost",
                                        "parameters": _PARAMS, "responses": _R}}
EXTRA_PATHS["/api/v1/costs/export"] = {"get": {"tags": ["finance"], "summary": "CSV or XLSX export",
                                               "parameters": _PARAMS + [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "xlsx"]}}],
                                               "responses": _EXPORT}}
EXTRA_PATHS["/api/v1/costs/whatif"] = {"post": {"tags": ["finance"], "summary": "Project the cost of a policy change (planned in a sandbox)",
                                                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WhatIfRequest"}}}},
                                                "responses": _WHATIF}}
