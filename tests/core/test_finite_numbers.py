"""Every number a form or the API takes is finite and in range: ``nan``, ``inf`` and ``1e999``
(which float() and Python's JSON parser accept) get a sentence naming the field, never a 500.
The rule lives in the shared request schemas (``schemas.Strict``), which the API, the forms
and the what-if page all validate with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from sel_time.core.extensions import db
from sel_time.models import Person, User, UserRole, WhatIfRun

PASSWORD = "finite-numbers-pass"
FORM = {"start": "2027-01-04", "weeks": "2", "time_limit": "1"}


def _signed_in(app: Flask, role: str) -> FlaskClient:
    user = User(
        email=f"{role}@example.nhs.uk",
        name=role,
        role=UserRole(role),
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
    )
    db.session.add(user)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return c


@pytest.mark.parametrize(
    ("field", "value", "extra"),
    [
        ("weeks", "1e999", {}),
        ("weeks", "nan", {}),
        ("weeks", "inf", {}),
        ("weeks", "-inf", {}),
        ("time_limit", "nan", {}),
        ("time_limit", "1e999", {}),
        ("rate_change_percent", "nan", {}),
        ("rate_change_percent", "-inf", {}),
        ("ent_amount", "nan", {"ent_profession": "nurse"}),
        ("role_amount", "inf", {"role_title": "director"}),
    ],
)
def test_the_what_if_page_names_a_number_that_is_not_finite(
    app: Flask, field: str, value: str, extra: dict[str, str]
) -> None:
    c = _signed_in(app, "finance")
    r = c.post("/finance/whatif", data={**FORM, **extra, field: value})
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[:300]
    assert "nhsuk-error-summary" in html and f'href="#{field}"' in html
    assert "finite number" in html
    assert db.session.scalar(sa.select(sa.func.count(WhatIfRun.id))) == 0


def test_the_what_if_page_names_a_fractional_number_of_weeks(app: Flask) -> None:
    c = _signed_in(app, "finance")
    r = c.post("/finance/whatif", data={**FORM, "weeks": "2.5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'href="#weeks"' in html
    assert "Number of weeks must be a whole number" in html  # in words, not the validator's


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate_change_percent", "NaN"),
        ("rate_change_percent", "Infinity"),
        ("rate_change_percent", "-Infinity"),
        ("weeks", "Infinity"),
        ("weeks", "NaN"),
        ("time_limit", "NaN"),
        ("time_limit", "1e999"),
    ],
)
def test_the_api_refuses_numbers_that_are_not_finite_naming_the_field(
    app: Flask, client: FlaskClient, login_as: Callable[..., dict[str, str]], field: str, value: str
) -> None:
    """Python's JSON parser reads NaN, Infinity and 1e999 (as inf) without complaint."""
    headers = {**login_as("finance"), "Content-Type": "application/json"}
    fields = {"start": '"2027-01-04"', "weeks": "2", "time_limit": "5", field: value}
    body = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    r = client.post("/api/v1/costs/whatif", data=body, headers=headers)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.get_json()["errors"] == [
        {"field": field, "message": "Input should be a finite number"}
    ]
    assert db.session.scalar(sa.select(sa.func.count(WhatIfRun.id))) == 0


def test_a_directory_form_and_the_api_refuse_an_infinite_fte(
    app: Flask,
    client: FlaskClient,
    make: Callable[..., Any],
    login_as: Callable[..., dict[str, str]],
) -> None:
    org = make("organisations")
    body = (
        '{"email": "ada@nhs.net", "name": "Ada", "profession": "nurse", "organisation_id": %d, '
        '"fte": Infinity}' % org.id
    )
    r = client.post(
        "/api/v1/people",
        data=body,
        headers={**login_as("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.get_json()["errors"] == [
        {"field": "fte", "message": "Input should be a finite number"}
    ]
    c = _signed_in(app, "admin")
    r = c.post(
        "/manage/people/new",
        data={
            "email": "ada@nhs.net",
            "name": "Ada",
            "profession": "nurse",
            "organisation_id": str(org.id),
            "fte": "inf",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'href="#fte"' in html and "finite number" in html
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 0


@pytest.mark.parametrize(
    "query", ["from=9999-12-31", "from=0001-01-01&to=9999-12-31", "to=1999-12-31"]
)
def test_costs_name_a_date_out_of_range_on_the_page_and_in_the_api(
    app: Flask, client: FlaskClient, login_as: Callable[..., dict[str, str]], query: str
) -> None:
    field = query.split("=")[0]
    r = client.get(f"/api/v1/costs?{query}", headers=login_as("finance"))
    assert r.status_code == 400 and r.get_json()["errors"][0] == {
        "field": field,
        "message": "a date from 2000-01-01 to 2100-12-31",
    }
    r = client.get(f"/api/v1/costs/export?{query}", headers=login_as("finance"))
    assert r.status_code == 400
    r = _signed_in(app, "finance").get(f"/finance?{query}")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and f'href="#{field}"' in html
    assert "Enter a date from 2000-01-01 to 2100-12-31" in html


def test_a_page_number_or_an_id_too_large_for_the_database_is_not_a_server_error(
    app: Flask, make: Callable[..., Any]
) -> None:
    c = _signed_in(app, "admin")
    assert c.get("/manage/people?page=99999999999999999999999").status_code == 200
    person = make("people", band="7")
    leader = User(
        email="leader@example.nhs.uk", name="Leader", role=UserRole.LEADER, person_id=person.id
    )
    db.session.add(leader)
    db.session.commit()
    g.pop("_login_user", None)  # Flask-Login's cache lives on the app context the tests share
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = str(leader.id)
    for value in ("99999999999999999999999", "abc"):
        assert c.post("/me/preferences", data={"remove": value}).status_code == 404


def test_an_id_beyond_32_bits_in_a_body_is_named_not_a_server_error(
    client: FlaskClient, login_as: Callable[..., dict[str, str]]
) -> None:
    """Found by the schemathesis run: a feed link for target 8e34 was a 500 (SQLite cannot bind
    it). Ids in every request body are bounded in the one schema."""
    from sel_time.core.errors import ValidationError
    from sel_time.core.validation import parse
    from sel_time.plans.schemas import SessionAdd

    r = client.post(
        "/api/v1/feeds", json={"kind": "team", "target_id": 10**35}, headers=login_as("admin")
    )
    assert r.status_code == 422 and [e["field"] for e in r.get_json()["errors"]] == ["target_id"]
    with pytest.raises(ValidationError) as exc:
        parse(SessionAdd, {"assignment_id": 2**31, "slot": "2027-01-04/AM"})
    assert [e.field for e in exc.value.errors] == ["assignment_id"]
