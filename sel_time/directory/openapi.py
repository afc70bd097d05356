"""The directory's part of the OpenAPI document: list, read, create, change and delete for
every record kind in :data:`~sel_time.directory.records.ENTITIES`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..api.openapi import ERRORS, REF, json_response, problem_response
from .records import ENTITIES


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def record_paths() -> tuple[list[type[BaseModel]], dict[str, Any]]:
    """The schemas and the paths of the record routes."""
    models: list[type[BaseModel]] = []
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
                "responses": {"200": json_response(page_schema), **ERRORS},
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
                "responses": {"200": json_response(_ref(e.out_schema)), **ERRORS},
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
                    "201": json_response(_ref(e.out_schema), "Created"),
                    **ERRORS,
                    "409": problem_response("Conflict"),
                    "422": problem_response("Invalid fields"),
                },
            }
            item["patch"] = {
                "tags": tag,
                "summary": f"Change a {e.label}",
                "parameters": item_param,
                "requestBody": body(e.patch_schema),
                "responses": {
                    "200": json_response(_ref(e.out_schema)),
                    **ERRORS,
                    "409": problem_response("Conflict"),
                    "422": problem_response("Invalid fields"),
                },
            }
            item["delete"] = {
                "tags": tag,
                "summary": f"Delete a {e.label}",
                "parameters": item_param,
                "responses": {
                    "204": {"description": "Deleted"},
                    **ERRORS,
                    "409": problem_response("In use"),
                },
            }
        paths[f"/api/v1/{name}"] = collection
        paths[f"/api/v1/{name}/{{ident}}"] = item
    return models, paths
