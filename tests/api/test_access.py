"""Who may do what through the API: every collection × every role (and anonymous) × every
operation, leaders limited to their own records, and tokens that no longer work."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from sel_time.core.extensions import db
from sel_time.directory.api import ACCESS
from sel_time.directory.records import ENTITIES
from sel_time.models import ApiToken, User
from tests.api.conftest import COLLECTIONS, OWNED, assert_problem

ROLES = ("admin", "rota_manager", "finance", "leader")
ALL = set(ROLES)
MANAGE = {"admin", "rota_manager"}

# Written out from issue 2, not read from the code under test: (who reads, who writes).
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "organisations": (ALL, MANAGE),
    "departments": (ALL, MANAGE),
    "people": (ALL, MANAGE),
    "absences": (ALL, MANAGE | {"leader"}),
    "preferences": (ALL, MANAGE | {"leader"}),
    "roles": (ALL, MANAGE),
    "assignments": (ALL, MANAGE),
    "teams": (ALL, MANAGE),
    "rates": ({"admin", "rota_manager", "finance"}, {"admin", "finance"}),
    "users": ({"admin"}, {"admin"}),
    "audit": ({"admin"}, set()),  # the trail is read-only, even for an admin
}
OK = {"list": 200, "get": 200, "create": 201, "patch": 200, "delete": 204}
READS = ("list", "get")


def test_every_collection_is_covered() -> None:
    assert set(COLLECTIONS) == set(ENTITIES) == set(ACCESS) == set(EXPECTED)


def _patch_payload(world: Any, collection: str) -> dict[str, Any]:
    return {
        "organisations": {"name": "Renamed"},
        "departments": {"max_away": 3},
        "people": {"specialty": "cardiology"},
        "absences": {"note": "renamed"},
        "preferences": {"half": "PM"},
        "roles": {"budget_code": "B123"},
        "assignments": {"share": 0.5},
        "teams": {"location": "Room 4"},
        "rates": {"label": "Renamed"},
        "users": {"name": "Renamed"},
        "audit": {"actor": "forged"},
    }[collection]


def _request(
    api: Any, world: Any, collection: str, op: str, role: str | None, headers: dict[str, str]
) -> Any:
    """Do ``op`` on ``collection``; item operations target a record the caller could own."""
    if op == "list":
        return api("get", collection, headers)
    if op == "create":
        return api("post", collection, headers, json=world.payload(collection, world.me))
    # a fresh record for each write, so that a delete is never refused for being in use
    ident = world.record_of(collection) if op == "get" else world.fresh(collection, world.me)
    if op == "get":
        return api("get", f"{collection}/{ident}", headers)
    if op == "patch":
        return api(
            "patch", f"{collection}/{ident}", headers, json=_patch_payload(world, collection)
        )
    return api("delete", f"{collection}/{ident}", headers)


@pytest.mark.parametrize("collection", COLLECTIONS)
@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_access_table(
    api: Any, world: Any, login_as: Any, collection: str, role: str | None
) -> None:
    headers = (
        {} if role is None else login_as(role, person_id=world.me if role == "leader" else None)
    )
    readers, writers = EXPECTED[collection]
    wrong = []
    for op in ("list", "get", "create", "patch", "delete"):
        allowed = role in (readers if op in READS else writers)
        expected = 401 if role is None else OK[op] if allowed else 403
        response = _request(api, world, collection, op, role, headers)
        if response.status_code != expected:
            wrong.append(
                f"{op}: {response.status_code} (expected {expected}) "
                f"{response.get_data(as_text=True)[:200]}"
            )
        elif expected >= 400:
            assert_problem(response, expected)
    assert not wrong, "\n".join(wrong)


# -- leaders see and change only their own records ---------------------------------------------


@pytest.mark.parametrize("collection", OWNED)
def test_leader_lists_only_their_own_records(
    api: Any, world: Any, login_as: Any, collection: str
) -> None:
    leader = login_as("leader", person_id=world.me)
    items = api("get", collection, leader).get_json()["items"]
    owner = "id" if collection == "people" else "person_id"
    assert [i[owner] for i in items] == [world.me]
    # a rota manager sees both leaders' records
    manager = login_as("rota_manager")
    owners = {i[owner] for i in api("get", collection, manager).get_json()["items"]}
    assert {world.me, world.other} <= owners


@pytest.mark.parametrize("collection", OWNED)
def test_leader_cannot_see_another_leaders_record(
    api: Any, world: Any, login_as: Any, collection: str
) -> None:
    leader = login_as("leader", person_id=world.me)
    theirs = world.record_of(collection, "other")
    assert_problem(api("get", f"{collection}/{theirs}", leader), 404)
    assert api("get", f"{collection}/{world.record_of(collection)}", leader).status_code == 200
    # filtering by the other person's id does not get round the scope
    owner = "id" if collection == "people" else "person_id"
    if owner != "id":
        listed = api("get", f"{collection}?person_id={world.other}", leader).get_json()
        assert listed["items"] == [] and listed["total"] == 0


@pytest.mark.parametrize("collection", ["absences", "preferences"])
def test_leader_cannot_change_another_leaders_record(
    api: Any, world: Any, login_as: Any, collection: str
) -> None:
    leader = login_as("leader", person_id=world.me)
    theirs = world.record_of(collection, "other")
    change = {"absences": {"note": "mine now"}, "preferences": {"half": "PM"}}[collection]
    assert_problem(api("patch", f"{collection}/{theirs}", leader, json=change), 404)
    assert_problem(api("delete", f"{collection}/{theirs}", leader), 404)
    # nor hand their own record over to someone else
    mine = world.record_of(collection)
    assert_problem(
        api("patch", f"{collection}/{mine}", leader, json={"person_id": world.other}), 403
    )
    manager = login_as("admin")
    assert api("get", f"{collection}/{theirs}", manager).get_json()["person_id"] == world.other
    assert api("get", f"{collection}/{mine}", manager).get_json()["person_id"] == world.me


def test_leader_books_own_leave_but_not_someone_elses(api: Any, world: Any, login_as: Any) -> None:
    leader = login_as("leader", person_id=world.me)
    leave = {"kind": "study", "start_date": "2040-05-04", "end_date": "2040-05-05"}
    mine = api("post", "absences", leader, json={"person_id": world.me, **leave})
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["person_id"] == world.me
    theirs = api("post", "absences", leader, json={"person_id": world.other, **leave})
    assert_problem(theirs, 403)
    assert_problem(
        api("post", "absences", leader, json={"person_id": str(world.other), **leave}), 403
    )
    # their own id written as a string is still their own
    later = leave | {"start_date": "2041-05-04", "end_date": "2041-05-04"}
    assert (
        api("post", "absences", leader, json={"person_id": str(world.me), **later}).status_code
        == 201
    )
    admin = login_as("admin")
    booked = api("get", f"absences?person_id={world.other}&kind=study", admin).get_json()
    assert booked["total"] == 0


def test_leader_without_a_person_sees_nothing_owned(api: Any, world: Any, login_as: Any) -> None:
    leader = login_as("leader")
    for collection in OWNED:
        assert api("get", collection, leader).get_json()["total"] == 0
    assert api("get", "organisations", leader).get_json()["total"] >= 1


# -- tokens ------------------------------------------------------------------------------------


def test_revoked_token_is_refused(api: Any, world: Any, login_as: Any) -> None:
    from sel_time.core.auth import revoke_api_token

    headers = login_as("admin")
    assert api("get", "organisations", headers).status_code == 200
    revoke_api_token(headers["Authorization"].split()[1])
    db.session.commit()
    assert_problem(api("get", "organisations", headers), 401)


def test_inactive_user_is_refused(api: Any, world: Any, login_as: Any) -> None:
    headers = login_as("rota_manager")
    token = db.session.scalars(sa.select(ApiToken)).all()[-1]
    db.session.get(User, token.user_id).active = False
    db.session.commit()
    assert_problem(api("get", "organisations", headers), 401)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic YWRtaW46YWRtaW4=",
        "Token abc",
        "bearer-st_abc",
        "Bearer st_not-a-real-token",
        "Bearer st_a st_b",
        "st_abc",
        "Bearer \t",
        "Bearer " + "x" * 5000,
    ],
)
def test_malformed_authorization_header_is_refused(
    api: Any, world: Any, login_as: Any, header: str
) -> None:
    login_as("admin")  # a real token exists, and none of these is it
    for method, path in (
        ("get", "organisations"),
        ("post", "organisations"),
        ("delete", f"organisations/{world.org}"),
    ):
        response = api(method, path, {"Authorization": header}, json={})
        assert_problem(response, 401)


def test_bearer_scheme_is_case_insensitive(api: Any, world: Any, login_as: Any) -> None:
    token = login_as("admin")["Authorization"].split()[1]
    assert api("get", "organisations", {"Authorization": f"bearer {token}"}).status_code == 200


def test_unknown_collection_is_404_not_500(api: Any, login_as: Any) -> None:
    assert_problem(api("get", "nonsense", login_as("admin")), 404)
    assert_problem(api("get", "nonsense/1"), 404)
