"""The OpenAPI 3.1 document, generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Response, jsonify, render_template_string
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..core.version import __version__
from . import bp


class ProblemField(BaseModel):
    field: str
    message: str
    row: int | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = None


REF = "#/components/schemas/{model}"
EXTRA_PATHS: dict[str, dict[str, Any]] = {}  # other modules add their paths here
EXTRA_MODELS: list[type[BaseModel]] = []


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is an ``application/problem+json`` document."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def json_response(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """An OpenAPI response whose JSON body follows ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """A required JSON request body following ``model``'s schema."""
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def object_schema(props: dict[str, Any]) -> dict[str, Any]:
    """A JSON object that always has every one of ``props``."""
    return {"type": "object", "required": sorted(props), "properties": props}


# Errors are problem documents; each 200 names the fields it always has, so that the fuzzer's
# response_schema_conformance check holds every answer to what this document promises.
PROBLEMS = {
    "400": problem_response("Bad request"),
    "401": problem_response("Not signed in"),
    "403": problem_response("Role not allowed"),
    "404": problem_response("Not found"),
    "409": problem_response("Conflict"),
    "422": problem_response("Invalid fields"),
}

_problem, _json = problem_response, json_response  # the short names this package's modules use


ERRORS = {
    "400": _problem("Bad request"),
    "401": _problem("Not signed in"),
    "403": _problem("Role not allowed"),
    "404": _problem("Not found"),
}


@lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [Problem, *EXTRA_MODELS]
    paths: dict[str, Any] = {}
    paths.update(EXTRA_PATHS)
    unique = list(dict.fromkeys(models))
    _, defs = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sel-time API",
            "version": __version__,
            "description": "Rostered protected time for clinical and care professional leaders.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(build_document())


DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sel-time API</title>
<style>body{font-family:Arial,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}
code{background:#eee;padding:0 .2rem}h2{border-top:1px solid #ccc;padding-top:1rem}</style></head>
<body><h1>sel-time API {{ doc.info.version }}</h1>
<p>Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> (\
<code>sel-time token create --user EMAIL</code>,
or <em>API tokens</em> on your account page). A token works for 90 days unless made for fewer;
<code>GET /api/v1/tokens</code> lists yours and <code>DELETE /api/v1/tokens/{id}</code> revokes one.
Errors are <code>application/problem+json</code> with an <code>errors</code> list naming each field.
The machine-readable document is <a href="openapi.json">openapi.json</a>.</p>
{% for path, ops in doc.paths.items() %}<h2><code>{{ path }}</code></h2><ul>
{% for method, op in ops.items() %}\
<li><strong>{{ method|upper }}</strong> {{ op.summary }}</li>{% endfor %}
</ul>{% endfor %}</body></html>"""


@bp.get("/docs")
def docs() -> str:
    return render_template_string(DOCS, doc=build_document())
