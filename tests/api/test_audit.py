"""The audit trail: every write records who, what, when, and old and new values; a failed
request leaves neither an audit row nor data (one transaction per request)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from sel_time.core.extensions import db
from sel_time.models import AuditEvent, Organisation
from tests.api.conftest import COLLECTIONS, assert_problem

WRITABLE = [c for c in COLLECTIONS if c != "audit"]
CHANGES = {
    "organisations": {"name": "Renamed", "auto_publish": False},
    "departments": {"max_away": 4},
    "people": {"specialty": "stroke", "fte": 0.8},
    "absences": {"note": "conference"},
    "preferences": {"half": "PM"},
    "roles": {"description": "Leads the borough"},
    "assignments": {"share": 0.4},
    "teams": {"location": "Room 2"},
    "rates": {"source": "a newer source"},
    "users": {"name": "Renamed"},
}


def _events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def _counts() -> dict[str, int]:
    """Rows in every table, to show that a failed request changed nothing."""
    db.session.expire_all()
    return {
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) or 0
        for t in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("collection", WRITABLE)
def test_create_update_delete_are_audited(
    api: Any, world: Any, login_as: Any, collection: str
) -> None:
    admin = login_as("admin")
    actor = api("get", "users?q=admin", admin).get_json()["items"][0]["email"]
    body = world.payload(collection)
    start = len(_events())

    created = api("post", collection, admin, json=body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    ident = record["id"]
    event = _events()[-1]
    assert (event.action, event.entity, event.entity_id, event.actor) == (
        "create",
        collection,
        str(ident),
        actor,
    )
    assert event.user_id is not None and event.at is not None
    assert event.old is None
    assert event.new == record

    change = CHANGES[collection]
    updated = api("patch", f"{collection}/{ident}", admin, json=change)
    assert updated.status_code == 200, updated.get_json()
    event = _events()[-1]
    assert (event.action, event.entity, event.entity_id, event.actor) == (
        "update",
        collection,
        str(ident),
        actor,
    )
    # only the changed fields, with their values before and after
    assert event.new == change
    assert event.old == {k: record[k] for k in change}

    deleted = api("delete", f"{collection}/{ident}", admin)
    assert deleted.status_code == 204
    event = _events()[-1]
    assert (event.action, event.entity, event.entity_id, event.actor) == (
        "delete",
        collection,
        str(ident),
        actor,
    )
    assert event.old == updated.get_json()
    assert event.new is None
    assert len(_events()) == start + 3


def test_audit_trail_is_listed_and_filtered(api: Any, world: Any, login_as: Any) -> None:
    admin = login_as("admin")
    api("patch", f"organisations/{world.org}", admin, json={"name": "Renamed"})
    found = api(
        "get", f"audit?entity=organisations&entity_id={world.org}&action=update", admin
    ).get_json()
    assert found["total"] == 1
    assert found["items"][0]["new"] == {"name": "Renamed"}
    assert found["items"][0]["at"].endswith("+00:00")


def test_secrets_stay_out_of_the_trail(api: Any, world: Any, login_as: Any) -> None:
    admin = login_as("admin")
    body = world.payload("users") | {"password": "a-long-secret-password"}
    assert api("post", "users", admin, json=body).status_code == 201
    for event in _events():
        assert "a-long-secret-password" not in repr(event.new) + repr(event.old)
        assert "password_hash" not in (event.new or {})


FAILURES: list[tuple[str, str, Any, int]] = [
    ("post", "people", {"email": "bad", "name": ""}, 422),
    (
        "post",
        "teams",
        {
            "code": "t",
            "name": "T",
            "kind": "board",
            "sessions_per": "week",
            "quorum": 5,
            "member_ids": ["ME"],
        },
        422,
    ),
    (
        "post",
        "absences",
        {"person_id": "ME", "kind": "annual", "start_date": "2031-03-02", "end_date": "2031-03-02"},
        409,
    ),  # overlaps ME's leave
    ("post", "organisations", "not json", 400),
    ("patch", "people/ME", {"organisation_id": 9999, "name": "Changed"}, 422),
    ("patch", "people/ME", {"email": "OTHER"}, 409),
    ("patch", "teams/TEAM", {"quorum": 9, "name": "Changed"}, 422),
    ("delete", "organisations/ORG", None, 409),
    ("delete", "roles/ROLE", None, 409),
]


@pytest.mark.parametrize("method,path,body,status", FAILURES)
def test_failed_request_writes_nothing(
    api: Any, world: Any, login_as: Any, method: str, path: str, body: Any, status: int
) -> None:
    admin = login_as("admin")
    other_email = api("get", f"people/{world.other}", admin).get_json()["email"]
    held = world.payload("assignments") | {"role_id": world.role}
    assert api("post", "assignments", admin, json=held).status_code == 201
    names = {"ME": world.me, "ORG": world.org, "ROLE": world.role, "TEAM": world.team}
    path = (
        path.replace("ME", str(world.me))
        .replace("ORG", str(world.org))
        .replace("ROLE", str(world.role))
        .replace("TEAM", str(world.team))
    )
    if isinstance(body, dict):
        body = {
            k: names.get(v, other_email if v == "OTHER" else v)
            if isinstance(v, str)
            else [names.get(x, x) for x in v]
            if isinstance(v, list)
            else v
            for k, v in body.items()
        }
    before_rows, before_events = _counts(), [e.id for e in _events()]
    before_state = {c: api("get", f"{c}?per_page=500", admin).get_json()["items"] for c in WRITABLE}
    kw = {"json": body} if isinstance(body, dict) else {"data": body} if body else {}
    assert_problem(api(method, path, admin, **kw), status)
    assert _counts() == before_rows
    assert [e.id for e in _events()] == before_events
    assert {
        c: api("get", f"{c}?per_page=500", admin).get_json()["items"] for c in WRITABLE
    } == before_state


def test_a_failure_after_the_flush_rolls_back_the_whole_request(
    api: Any, world: Any, login_as: Any, monkeypatch: Any
) -> None:
    """The record is flushed before its audit row is added; if that step fails, neither stays."""
    from sel_time.directory import records

    admin = login_as("admin")
    before = _counts()

    def broken_record(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(records, "record", broken_record)
    r = api(
        "post", "organisations", admin, json=world.payload("organisations") | {"code": "half-done"}
    )
    assert r.status_code == 500
    assert r.mimetype == "application/problem+json"
    assert "Traceback" not in r.get_data(as_text=True)
    assert _counts() == before
    assert (
        db.session.scalar(sa.select(Organisation).where(Organisation.code == "half-done")) is None
    )
    r = api("patch", f"organisations/{world.org}", admin, json={"name": "Half changed"})
    assert r.status_code == 500
    db.session.expire_all()
    assert db.session.get(Organisation, world.org).name != "Half changed"
