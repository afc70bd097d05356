"""The OpenAPI document: valid OpenAPI 3.1, complete, and true to what the API answers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sel_time.directory.records import ENTITIES
from tests.api.conftest import COLLECTIONS

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture()
def doc(client: Any) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    return r.get_json()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external $ref {ref}"
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"$ref {ref} does not resolve"
        node = node[part]
    return node


def test_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1")
    try:
        from openapi_spec_validator import validate
    except ImportError:  # not a dependency; the structural checks below still run
        pytest.skip("openapi-spec-validator is not installed")
    validate(doc)


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    refs = _refs(doc)
    assert refs
    for ref in set(refs):
        _resolve(doc, ref)


def test_every_operation_is_complete(doc: dict[str, Any]) -> None:
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, ops in doc["paths"].items():
        templated = set(re.findall(r"{(\w+)}", path))
        for method, op in ops.items():
            assert method in METHODS, (path, method)
            assert op.get("responses"), f"{method} {path} has no responses"
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d|default", status), (path, method, status)
                assert response.get("description"), (path, method, status)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == templated, (
                f"{method} {path}: path parameters {declared} vs {templated}"
            )


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_entity_has_its_paths_and_schemas(doc: dict[str, Any], collection: str) -> None:
    entity = ENTITIES[collection]
    schemas = doc["components"]["schemas"]
    for model in {entity.create_schema, entity.patch_schema, entity.out_schema}:
        assert model.__name__ in schemas, f"{model.__name__} is missing"
        assert schemas[model.__name__].get("properties"), model.__name__
    listing = doc["paths"][f"/api/v1/{collection}"]["get"]
    item_ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "items"
    ]["items"]
    assert item_ref == {"$ref": f"#/components/schemas/{entity.out_schema.__name__}"}
    params = {p["name"] for p in listing["parameters"]}
    assert {"page", "per_page", *entity.filters} <= params
    item = doc["paths"][f"/api/v1/{collection}/{{ident}}"]
    assert "get" in item
    for op in [*doc["paths"][f"/api/v1/{collection}"].values(), *item.values()]:
        for status in ("400", "401", "403", "404"):
            assert op["responses"][status]["content"]["application/problem+json"]
    if collection == "audit":
        assert set(item) == {"get"} and "post" not in doc["paths"]["/api/v1/audit"]
    else:
        assert {"get", "patch", "delete"} <= set(item)
        body = doc["paths"][f"/api/v1/{collection}"]["post"]["requestBody"]["content"][
            "application/json"
        ]
        assert body["schema"] == {"$ref": f"#/components/schemas/{entity.create_schema.__name__}"}
        patch = item["patch"]["requestBody"]["content"]["application/json"]["schema"]
        assert patch == {"$ref": f"#/components/schemas/{entity.patch_schema.__name__}"}
        assert "422" in doc["paths"][f"/api/v1/{collection}"]["post"]["responses"]
        assert "409" in item["delete"]["responses"]


def test_document_uses_the_validating_schemas(doc: dict[str, Any]) -> None:
    """Generated from the same pydantic models: the fields and required lists agree."""
    schemas = doc["components"]["schemas"]
    for entity in ENTITIES.values():
        for model in (entity.create_schema, entity.patch_schema):
            generated = schemas[model.__name__]
            assert set(generated["properties"]) == set(model.model_fields), model.__name__
            required = {n for n, f in model.model_fields.items() if f.is_required()}
            assert set(generated.get("required", [])) == required, model.__name__
            assert generated.get("additionalProperties") is False, model.__name__


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_responses_validate_against_the_out_schema(
    api: Any, world: Any, login_as: Any, make: Any, collection: str
) -> None:
    admin = login_as("admin")
    # records with their optional parts filled in too
    api(
        "post",
        "people",
        admin,
        json=world.payload("people")
        | {
            "backfill_rate": "70.10",
            "staff_number": "S1",
            "specialty": "frailty",
            "max_per_day": 1,
            "pattern": [{"day": "Sat", "half": "PM", "kind": "non_clinical"}],
        },
    )
    api(
        "post",
        "teams",
        admin,
        json=world.payload("teams")
        | {"allowed_slots": ["Wed/PM"], "annual_budget": "1200.50", "funding_role_id": world.role},
    )
    api(
        "post",
        "assignments",
        admin,
        json=world.payload("assignments")
        | {
            "end_date": "2031-01-01",
            "commitment_amount": 2,
            "commitment_unit": "hours",
            "commitment_per": "week",
        },
    )
    api(
        "post",
        "roles",
        admin,
        json=world.payload("roles") | {"annual_budget": "5000", "description": "d"},
    )
    api("patch", f"organisations/{world.org}", admin, json={"name": "Audited"})
    api(
        "post",
        "absences",
        admin,
        json=world.payload("absences") | {"note": "n", "start_half": "PM"},
    )
    out = ENTITIES[collection].out_schema
    listing = api("get", f"{collection}?per_page=500", admin)
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert items
    for item in items:
        out.model_validate(item)
        one = api("get", f"{collection}/{item['id']}", admin)
        assert one.status_code == 200
        out.model_validate(one.get_json())
        assert one.get_json() == item


def test_docs_page_renders(client: Any, doc: dict[str, Any]) -> None:
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "openapi.json" in html
    for collection in COLLECTIONS:
        assert f"/api/v1/{collection}" in html
    assert "Bearer" in html


def test_openapi_needs_no_token(client: Any) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
