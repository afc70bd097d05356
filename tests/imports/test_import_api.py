"""The upload endpoint and the template downloads."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from sel_time import imports
from sel_time.core.extensions import db
from sel_time.models import AuditEvent, Person

PEOPLE = (
    b"email,name,profession,band,organisation\r\n"
    b"amara@nhs.net,Amara Okafor,nurse,7,gstt\r\n"
    b"ben@nhs.net,Ben Adeyemi,gp,,gstt\r\n"
)
BAD = (
    b"email,name,profession,band,organisation\r\n"
    b"not-an-email,Amara Okafor,nurse,7,gstt\r\n"
    b"ben@nhs.net,Ben Adeyemi,gp,,elsewhere\r\n"
)


def upload(
    client: Any,
    headers: dict[str, str],
    data: bytes,
    filename: str = "people.csv",
    query: str = "",
    **form: str,
) -> Any:
    body = {"file": (io.BytesIO(data), filename), **form}
    return client.post(
        f"/api/v1/import{query}", data=body, headers=headers, content_type="multipart/form-data"
    )


def people_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Person.id))) or 0


@pytest.fixture()
def org(make: Any) -> Any:
    return make("organisations", code="gstt")


@pytest.mark.parametrize("role", ["rota_manager", "admin"])
def test_upload_imports_and_reports(client: Any, login_as: Any, org: Any, role: str) -> None:
    r = upload(client, login_as(role), PEOPLE)
    assert r.status_code == 200, r.json
    assert r.json == {
        "filename": "people.csv",
        "dry_run": False,
        "counts": {"people": {"created": 2, "updated": 0, "unchanged": 0}},
    }
    assert people_count() == 2
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.actor.startswith(role) and event.user_id is not None


def test_upload_with_bad_rows_is_422_and_writes_nothing(
    client: Any, login_as: Any, org: Any
) -> None:
    headers = login_as("rota_manager")
    audits = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    r = upload(client, headers, BAD)
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    assert r.json["detail"] == "2 rows have errors; nothing was imported"
    assert [(e["row"], e["field"]) for e in r.json["errors"]] == [(2, "email"), (3, "organisation")]
    assert r.json["errors"][1]["message"] == "no organisation with code elsewhere"
    assert people_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == audits


def test_dry_run_validates_without_writing(client: Any, login_as: Any, org: Any) -> None:
    headers = login_as("rota_manager")
    r = upload(client, headers, PEOPLE, query="?dry_run=1")
    assert r.status_code == 200 and r.json["dry_run"] is True
    assert r.json["counts"]["people"]["created"] == 2
    assert people_count() == 0
    assert upload(client, headers, BAD, query="?dry_run=1").status_code == 422


def test_kind_can_be_given_with_the_upload(client: Any, login_as: Any, org: Any) -> None:
    r = upload(client, login_as("admin"), PEOPLE, filename="export.csv", kind="people")
    assert r.status_code == 200 and r.json["counts"]["people"]["created"] == 2
    r = upload(client, login_as("admin"), PEOPLE, filename="export.csv", kind="pets")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "kind"


@pytest.mark.parametrize(("role", "status"), [("leader", 403), ("finance", 403), (None, 401)])
def test_only_rota_managers_and_admins_may_import(
    client: Any, login_as: Any, org: Any, role: str | None, status: int
) -> None:
    headers = login_as(role) if role else {}
    r = upload(client, headers, PEOPLE)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    assert people_count() == 0


def test_a_request_without_a_file_is_400(client: Any, login_as: Any) -> None:
    r = client.post(
        "/api/v1/import",
        data={"kind": "people"},
        headers=login_as("admin"),
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "file"
    r = client.post("/api/v1/import", json={"file": "x"}, headers=login_as("admin"))
    assert r.status_code == 400


def test_a_file_over_the_upload_limit_is_413_problem_json(
    app: Any, client: Any, login_as: Any
) -> None:
    # A small limit: the test client spools bodies over 500 kB to a temporary file it leaks.
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    r = upload(client, login_as("rota_manager"), b"email\r\n" + b"x" * (100 * 1024))
    assert r.status_code == 422  # under the limit: read, and refused for its columns
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    r = upload(client, login_as("rota_manager"), b"email\r\n" + b"x" * (100 * 1024))
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert r.json["detail"].startswith("The file is larger than the 64 kB upload limit")


def test_a_non_utf8_upload_is_a_clear_422(client: Any, login_as: Any, org: Any) -> None:
    r = upload(
        client, login_as("rota_manager"), "email,name\r\nzoë@nhs.net,Zoë\r\n".encode("latin-1")
    )
    assert r.status_code == 422
    assert r.json["errors"] == [{"field": "file", "message": imports.NOT_UTF8}]


# -- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", imports.KINDS)
def test_templates_download_for_any_signed_in_user(client: Any, login_as: Any, kind: str) -> None:
    headers = login_as("leader")
    r = client.get(f"/api/v1/import/templates/{kind}.csv", headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f'filename="{kind}.csv"' in r.headers["Content-Disposition"]
    header, example = r.data.decode("utf-8-sig").splitlines()[:2]
    assert header.split(",") == [c.name for c in imports.SHEETS[kind].columns]
    r = client.get(f"/api/v1/import/templates/{kind}.xlsx", headers=headers)
    assert r.status_code == 200 and r.mimetype == imports.XLSX_MIMETYPE
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == [kind]
    assert [c.value for c in book[kind][1]] == [c.name for c in imports.SHEETS[kind].columns]


def test_workbook_template_has_every_sheet_and_reimports(
    client: Any, login_as: Any, make: Any
) -> None:
    org = make("organisations", code="gstt")
    make("departments", code="gstt-community", organisation_id=org.id)
    headers = login_as("rota_manager")
    r = client.get("/api/v1/import/templates/workbook.xlsx", headers=headers)
    assert r.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(r.data)).sheetnames == list(imports.KINDS)
    r = upload(client, headers, r.data, filename="workbook.xlsx")
    assert r.status_code == 200, r.json
    assert {k: v["created"] for k, v in r.json["counts"].items()} == dict.fromkeys(imports.KINDS, 1)
    people_csv = client.get("/api/v1/import/templates/people.csv", headers=headers).data
    r = upload(client, headers, people_csv, filename="people.csv")
    assert r.json["counts"] == {"people": {"created": 0, "updated": 0, "unchanged": 1}}


def test_templates_need_sign_in_and_a_known_name(client: Any, login_as: Any) -> None:
    assert client.get("/api/v1/import/templates/people.csv").status_code == 401
    r = client.get("/api/v1/import/templates/pets.csv", headers=login_as("finance"))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_import_endpoints_are_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/import"]
    assert "422" in paths["/api/v1/import"]["post"]["responses"]
    assert "get" in paths["/api/v1/import/templates/{name}"]
