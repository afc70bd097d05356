"""The OpenAPI 3.1 document, generated from the same pydantic schemas that validate requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Response, jsonify, render_template_string
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __version__
from ..directory import schemas as s
from ..directory.records import ENTITIES
from . import bp

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


_problem, _json = problem_response, json_response  # the short names this package's modules use


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


ERRORS = {
    "400": _problem("Bad request"),
    "401": _problem("Not signed in"),
    "403": _problem("Role not allowed"),
    "404": _problem("Not found"),
}


@lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [s.Problem, *EXTRA_MODELS]
    paths: dict[str, Any] = {}
    for name, e in ENTITIES.items():
        models += [e.create_schema, e.patch_schema, e.out_schema]
        params = [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 500},
            },
        ]
        if e.search:
            params.append(
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "search " + ", ".join(e.search),
                }
            )
        params += [{"name": f, "in": "query", "schema": {"type": "string"}} for f in e.filters]
        page_schema = {
            "type": "object",
            "required": ["items", "page", "per_page", "total"],
            "properties": {
                "items": {"type": "array", "items": _ref(e.out_schema)},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {"type": "integer"},
            },
        }
        tag = [name]
        collection: dict[str, Any] = {
            "get": {
                "tags": tag,
                "summary": f"List {name}",
                "parameters": params,
                "responses": {"200": _json(page_schema), **ERRORS},
            }
        }
        item_param = [
            {"name": "ident", "in": "path", "required": True, "schema": {"type": "integer"}}
        ]
        item: dict[str, Any] = {
            "get": {
                "tags": tag,
                "summary": f"One {e.label}",
                "parameters": item_param,
                "responses": {"200": _json(_ref(e.out_schema)), **ERRORS},
            }
        }
        if name != "audit":

            def body(m: type[BaseModel]) -> dict[str, Any]:
                return {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(m)}},
                }

            collection["post"] = {
                "tags": tag,
                "summary": f"Create a {e.label}",
                "requestBody": body(e.create_schema),
                "responses": {
                    "201": _json(_ref(e.out_schema), "Created"),
                    **ERRORS,
                    "409": _problem("Conflict"),
                    "422": _problem("Invalid fields"),
                },
            }
            item["patch"] = {
                "tags": tag,
                "summary": f"Change a {e.label}",
                "parameters": item_param,
                "requestBody": body(e.patch_schema),
                "responses": {
                    "200": _json(_ref(e.out_schema)),
                    **ERRORS,
                    "409": _problem("Conflict"),
                    "422": _problem("Invalid fields"),
                },
            }
            item["delete"] = {
                "tags": tag,
                "summary": f"Delete a {e.label}",
                "parameters": item_param,
                "responses": {
                    "204": {"description": "Deleted"},
                    **ERRORS,
                    "409": _problem("In use"),
                },
            }
        paths[f"/api/v1/{name}"] = collection
        paths[f"/api/v1/{name}/{{ident}}"] = item
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
