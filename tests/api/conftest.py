"""Fixtures for the API tests: a small directory with two leaders, and valid payloads for
every collection so that a test can create, change and delete any kind of record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from flask.testing import FlaskClient

from sel_time.core.extensions import db
from sel_time.models import AuditEvent

PROBLEM = "application/problem+json"

COLLECTIONS = (
    "organisations",
    "departments",
    "people",
    "absences",
    "preferences",
    "roles",
    "assignments",
    "teams",
    "rates",
    "users",
    "audit",
)
# Records a leader reads and writes only for their own person.
OWNED = ("people", "absences", "preferences", "assignments")


def problem_fields(response: Any) -> set[str]:
    """The fields a problem response names."""
    return {e["field"] for e in (response.get_json(silent=True) or {}).get("errors", [])}


def assert_problem(response: Any, status: int, *fields: str) -> None:
    """``response`` is an ``application/problem+json`` with ``status`` naming every field given."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.mimetype == PROBLEM, body
    doc = response.get_json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    assert "Traceback" not in body
    missing = set(fields) - problem_fields(response)
    assert not missing, f"{missing} not named in {body}"


@dataclass
class World:
    """Two leaders (``me`` and ``other``) in one organisation, with a record of each kind."""

    org: int
    dept: int
    me: int
    other: int
    role: int
    my_records: dict[str, int]
    other_records: dict[str, int]
    team: int
    rate: int
    user: int
    audit: int
    payload: Callable[[str, int | None], dict[str, Any]]
    fresh: Callable[[str, int | None], int]

    def record_of(self, collection: str, owner: str = "me") -> int:
        """The id of a record in ``collection`` (one of ``owner``'s where it has an owner)."""
        if collection in OWNED:
            return (self.my_records if owner == "me" else self.other_records)[collection]
        return {
            "organisations": self.org,
            "departments": self.dept,
            "roles": self.role,
            "teams": self.team,
            "rates": self.rate,
            "users": self.user,
            "audit": self.audit,
        }[collection]


@pytest.fixture()
def world(app: Any, make: Callable[..., Any]) -> Iterator[World]:
    n = count(1)
    org = make("organisations")
    dept = make("departments", organisation_id=org.id)
    me = make("people", organisation_id=org.id, department_id=dept.id, name="Amara Me")
    other = make("people", organisation_id=org.id, name="Bola Other")
    role = make("roles", host_organisation_id=org.id)

    def payload(collection: str, person_id: int | None = None) -> dict[str, Any]:
        """A valid create payload for ``collection`` that clashes with nothing stored."""
        i = next(n)
        pid = person_id or me.id
        if collection == "organisations":
            return {
                "code": f"new-org-{i}",
                "name": f"New Org {i}",
                "kind": "icb",
                "borough": "Southwark",
            }
        if collection == "departments":
            return {"code": f"new-dept-{i}", "name": f"New Dept {i}", "organisation_id": org.id}
        if collection == "people":
            return {
                "email": f"new{i}@nhs.net",
                "name": f"New Person {i}",
                "profession": "gp",
                "organisation_id": org.id,
            }
        if collection == "absences":  # each in its own year, so that no two ever overlap
            return {
                "person_id": pid,
                "kind": "annual",
                "start_date": f"{2030 + i}-03-02",
                "end_date": f"{2030 + i}-03-03",
            }
        if collection == "preferences":  # mornings only, so that a test can move one to PM
            return {
                "person_id": pid,
                "day": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[i % 7],
                "half": "AM",
            }
        if collection == "roles":
            return {
                "code": f"new-role-{i}",
                "title": f"New Role {i}",
                "level": "system",
                "host_organisation_id": org.id,
                "commitment_amount": 2,
                "commitment_unit": "pa",
                "commitment_per": "month",
            }
        if collection == "assignments":  # a role of its own, so that assignments never overlap
            role_id = make("roles", host_organisation_id=org.id).id
            return {"person_id": pid, "role_id": role_id, "start_date": "2030-01-01"}
        if collection == "teams":
            return {
                "code": f"new-team-{i}",
                "name": f"New Team {i}",
                "kind": "board",
                "sessions_per": "month",
                "quorum": 1,
                "member_ids": [me.id],
            }
        if collection == "rates":
            return {
                "staff_group": f"group_{i}",
                "label": f"Group {i}",
                "rate_per_hour": "55.50",
                "effective_from": "2025-04-01",
                "source": "test figures",
            }
        if collection == "users":
            return {"email": f"user{i}@nhs.net", "name": f"User {i}", "role": "finance"}
        return {"actor": "me", "action": "create", "entity": "x"}  # audit: never writable

    def fresh(collection: str, person_id: int | None = None) -> int:
        """Create a new record in ``collection`` through the service and return its id."""
        if collection == "audit":
            return db.session.scalar(db.select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        return make(collection, **payload(collection, person_id)).id

    mine = {"people": me.id, **{c: fresh(c, me.id) for c in OWNED if c != "people"}}
    theirs = {"people": other.id, **{c: fresh(c, other.id) for c in OWNED if c != "people"}}
    yield World(
        org=org.id,
        dept=dept.id,
        me=me.id,
        other=other.id,
        role=role.id,
        my_records=mine,
        other_records=theirs,
        team=fresh("teams"),
        rate=fresh("rates"),
        user=fresh("users"),
        audit=fresh("audit"),
        payload=payload,
        fresh=fresh,
    )


@pytest.fixture()
def api(client: FlaskClient) -> Callable[..., Any]:
    """``api("get", "people/1", headers)``: a request under /api/v1."""

    def _call(method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return client.open(f"/api/v1/{path}", method=method.upper(), headers=headers or {}, **kw)

    return _call


@pytest.fixture(autouse=True)
def _sqlite_without_fsync(app: Any) -> None:
    """Test databases need no durability: skip SQLite's fsync on each commit (the API tests
    commit after every request, and fsync dominates their run time on a busy disk)."""
    if db.engine.dialect.name == "sqlite":
        raw = db.engine.raw_connection()  # outside SQLAlchemy's transaction; the pool reuses it
        try:
            raw.driver_connection.execute("PRAGMA synchronous=OFF")
        finally:
            raw.close()
