"""Spreadsheet upload (``POST /api/v1/import``) and the template files rota managers fill in.

The routes are registered on the REST API's blueprint (``sel_time.api`` imports this module
with its own route modules), so their URLs and OpenAPI paths are the API's."""
from __future__ import annotations

from importlib import resources

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from ..api import bp
from ..api.openapi import EXTRA_MODELS, EXTRA_PATHS, REF, json_response, problem_response
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.errors import BadRequest, FieldError, NotFound, SelTimeError
from ..core.transaction import transactional
from ..models import UserRole
from .columns import KINDS
from .service import import_file
from .templates import XLSX_MIMETYPE

IMPORTERS = frozenset({UserRole.ADMIN, UserRole.ROTA_MANAGER})
TEMPLATE_NAMES = frozenset([f"{k}.{ext}" for k in KINDS for ext in ("csv", "xlsx")]
                           + ["workbook.xlsx"])


class ImportCounts(BaseModel):
    created: int
    updated: int
    unchanged: int


class ImportReportOut(BaseModel):
    """What an import did (or, with ``dry_run``, would do), kind by kind."""

    filename: str
    dry_run: bool
    counts: dict[str, ImportCounts]


def _too_large() -> SelTimeError:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    shown = f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"
    return SelTimeError(f"The file is larger than the {shown} upload limit: "
                        "split it into smaller files", [FieldError("file", "too large")], 413,
                        "Content too large")


@bp.post("/import")
@transactional
def upload_import() -> Response:
    """Import a CSV file or XLSX workbook: every row or none."""
    user = require_user(IMPORTERS)
    try:
        upload = request.files.get("file")
        kind = request.form.get("kind") or request.args.get("kind") or None
        dry_run = (request.form.get("dry_run") or request.args.get("dry_run") or "").lower()
    except RequestEntityTooLarge:
        raise _too_large() from None
    if upload is None:
        raise BadRequest("Send the spreadsheet as multipart/form-data in a field called file",
                         [FieldError("file", "missing")])
    if dry_run not in {"", "0", "1", "true", "false", "yes", "no"}:
        raise BadRequest("dry_run must be 1 or 0",
                         [FieldError("dry_run", f'"{dry_run}" is not 1 or 0')])
    data = upload.read()
    if not data:
        raise BadRequest("The file is empty", [FieldError("file", "empty")])
    report = import_file(data, upload.filename or "upload", Actor.for_user(user), kind=kind,
                         dry_run=dry_run in {"1", "true", "yes"})
    return jsonify(report.as_dict())


@bp.get("/import/templates/<name>")
@transactional
def import_template(name: str) -> Response:
    """A template file: ``<kind>.csv``, ``<kind>.xlsx`` or ``workbook.xlsx`` (all sheets)."""
    require_user()
    if name not in TEMPLATE_NAMES:
        raise NotFound(f"No template called {name}: try people.csv, people.xlsx or workbook.xlsx")
    content = resources.files("sel_time").joinpath("data", "templates", name).read_bytes()
    mimetype = "text/csv; charset=utf-8" if name.endswith(".csv") else XLSX_MIMETYPE
    return Response(content, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


EXTRA_MODELS.append(ImportReportOut)
_ERRORS = {"401": problem_response("Not signed in"), "403": problem_response("Role not allowed")}
EXTRA_PATHS["/api/v1/import"] = {"post": {
    "tags": ["import"],
    "summary": "Import a CSV file or XLSX workbook (every row or none)",
    "description": "CSV: one kind per file, from `kind`, else the file name (people.csv, "
                   "staff-2026.csv), else the header. XLSX: one sheet per kind, named after it. "
                   "Kinds: " + ", ".join(KINDS) + ". A 422 lists every bad row by `row` "
                   "(header = row 1) and `field` (the column; `sheet.column` in a workbook).",
    "parameters": [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
                    "description": "check every row, write nothing"}],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"},
                       "kind": {"type": "string", "enum": list(KINDS)}}}}}},
    "responses": {"200": json_response({"$ref": REF.format(model="ImportReportOut")}),
                  "400": problem_response("No file, or a bad option"), **_ERRORS,
                  "413": problem_response("File too large"),
                  "422": problem_response("Rows with errors (nothing was written)")},
}}
EXTRA_PATHS["/api/v1/import/templates/{name}"] = {"get": {
    "tags": ["import"],
    "summary": "Download a template: <kind>.csv, <kind>.xlsx or workbook.xlsx",
    "parameters": [{"name": "name", "in": "path", "required": True,
                    "schema": {"type": "string", "enum": sorted(TEMPLATE_NAMES)}}],
    "responses": {"200": {"description": "The template file", "content": {
        "text/csv": {"schema": {"type": "string"}},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}},
        **_ERRORS, "404": problem_response("No such template")},
}}
