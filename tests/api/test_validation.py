"""Validation at the edge: every bad request is a 4xx ``application/problem+json`` naming each
offending field; referential faults are clear 409/422s; nothing is ever a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sel_time.directory.records import ENTITIES
from tests.api.conftest import COLLECTIONS, assert_problem, problem_fields

WRITABLE = [c for c in COLLECTIONS if c != "audit"]


@pytest.fixture()
def admin(login_as: Any) -> dict[str, str]:
    return login_as("admin")


# -- shape of the body -------------------------------------------------------------------------


def test_several_bad_fields_are_all_named(api: Any, world: Any, admin: dict[str, str]) -> None:
    r = api(
        "post",
        "people",
        admin,
        json={
            "email": "not-an-email",
            "name": "",
            "profession": "wizard",
            "organisation_id": "x",
            "fte": 3,
            "max_per_day": 7,
            "pattern": [{"day": "Funday", "half": "XM"}],
        },
    )
    assert_problem(
        r,
        422,
        "email",
        "name",
        "profession",
        "organisation_id",
        "fte",
        "max_per_day",
        "pattern.0.day",
        "pattern.0.half",
    )


def test_missing_required_fields_are_all_named(api: Any, world: Any, admin: dict[str, str]) -> None:
    assert_problem(
        api("post", "roles", admin, json={}),
        422,
        "code",
        "title",
        "level",
        "host_organisation_id",
        "commitment_amount",
        "commitment_unit",
        "commitment_per",
    )


@pytest.mark.parametrize(
    "collection,field,value",
    [
        ("organisations", "auto_publish", "often"),
        ("departments", "max_away", "two"),
        ("people", "fte", [1]),
        ("absences", "start_date", "next tuesday"),
        ("absences", "start_half", "noon"),
        ("preferences", "day", 3),
        ("roles", "commitment_amount", {"amount": 1}),
        ("assignments", "share", "half"),
        ("teams", "member_ids", "1,2"),
        ("teams", "allowed_slots", ["Wednesday afternoon"]),
        ("rates", "rate_per_hour", "12.345"),
        ("users", "role", "superuser"),
    ],
)
def test_wrong_types_are_named(
    api: Any, world: Any, admin: dict[str, str], collection: str, field: str, value: Any
) -> None:
    body = world.payload(collection, world.me) | {field: value}
    r = api("post", collection, admin, json=body)
    assert_problem(r, 422)
    assert any(f == field or f.startswith(f"{field}.") for f in problem_fields(r)), r.get_json()


@pytest.mark.parametrize("collection", WRITABLE)
def test_unknown_fields_are_refused(
    api: Any, world: Any, admin: dict[str, str], collection: str
) -> None:
    body = world.payload(collection, world.me) | {"colour": "red", "id": 99}
    assert_problem(api("post", collection, admin, json=body), 422, "colour", "id")
    ident = world.record_of(collection)
    assert_problem(
        api("patch", f"{collection}/{ident}", admin, json={"colour": "red"}), 422, "colour"
    )


@pytest.mark.parametrize("method", ["post", "patch"])
def test_non_json_and_invalid_json_bodies(
    api: Any, world: Any, admin: dict[str, str], method: str
) -> None:
    path = "organisations" if method == "post" else f"organisations/{world.org}"
    cases = [
        dict(data="code=x&name=y", content_type="application/x-www-form-urlencoded"),
        dict(data="{}", content_type="text/plain"),
        dict(data=b""),
        dict(data='{"code": "x",', content_type="application/json"),
        dict(data="{'code': 'x'}", content_type="application/json"),
        dict(data=b"\xff\xfe\x00garbage", content_type="application/json"),
        dict(data="", content_type="application/json"),
        dict(data="[" * 100_000, content_type="application/json"),
    ]
    for case in cases:
        r = api(method, path, admin, **case)
        assert_problem(r, 400, "body")


@pytest.mark.parametrize("body", [[], [{"code": "x"}], "text", 42, True])
def test_body_that_is_not_an_object(api: Any, world: Any, admin: dict[str, str], body: Any) -> None:
    assert_problem(api("post", "organisations", admin, json=body), 422, "body")
    assert_problem(api("patch", f"organisations/{world.org}", admin, json=body), 422, "body")


# -- referential and business rules ------------------------------------------------------------


def test_unknown_organisation_is_422_naming_it(api: Any, world: Any, admin: dict[str, str]) -> None:
    body = world.payload("people") | {"organisation_id": 9999}
    assert_problem(api("post", "people", admin, json=body), 422, "organisation_id")
    body = world.payload("departments") | {"organisation_id": 9999}
    assert_problem(api("post", "departments", admin, json=body), 422, "organisation_id")
    assert_problem(
        api("patch", f"people/{world.me}", admin, json={"organisation_id": 9999}),
        422,
        "organisation_id",
    )


def test_every_unknown_reference_is_named(api: Any, world: Any, admin: dict[str, str]) -> None:
    body = world.payload("teams") | {"member_ids": [world.me, 9998, 9999], "funding_role_id": 9997}
    assert_problem(
        api("post", "teams", admin, json=body),
        422,
        "member_ids.1",
        "member_ids.2",
        "funding_role_id",
    )
    body = world.payload("assignments") | {"person_id": 9999, "role_id": 9999}
    assert_problem(api("post", "assignments", admin, json=body), 422, "person_id", "role_id")


def test_department_of_another_organisation(
    api: Any, world: Any, admin: dict[str, str], make: Any
) -> None:
    elsewhere = make("departments")
    body = world.payload("people") | {"department_id": elsewhere.id}
    assert_problem(api("post", "people", admin, json=body), 422, "department_id")


def test_duplicate_email_is_409(api: Any, world: Any, admin: dict[str, str]) -> None:
    body = world.payload("people")
    assert api("post", "people", admin, json=body).status_code == 201
    again = world.payload("people") | {"email": body["email"].upper()}
    assert_problem(api("post", "people", admin, json=again), 409, "email")
    other = api("get", f"people/{world.other}", admin).get_json()
    assert_problem(
        api("patch", f"people/{world.me}", admin, json={"email": other["email"]}), 409, "email"
    )


@pytest.mark.parametrize(
    "collection,field",
    [
        ("organisations", "code"),
        ("departments", "code"),
        ("roles", "code"),
        ("teams", "code"),
        ("users", "email"),
    ],
)
def test_duplicate_key_is_409(
    api: Any, world: Any, admin: dict[str, str], collection: str, field: str
) -> None:
    body = world.payload(collection)
    assert api("post", collection, admin, json=body).status_code == 201
    assert_problem(
        api("post", collection, admin, json=world.payload(collection) | {field: body[field]}),
        409,
        field,
    )


def test_overlapping_leave_is_409(api: Any, world: Any, admin: dict[str, str]) -> None:
    leave = {
        "person_id": world.me,
        "kind": "annual",
        "start_date": "2050-06-01",
        "end_date": "2050-06-05",
    }
    assert api("post", "absences", admin, json=leave).status_code == 201
    clash = leave | {
        "kind": "study",
        "start_date": "2050-06-05",
        "end_date": "2050-06-08",
        "start_half": "AM",
    }
    assert_problem(api("post", "absences", admin, json=clash), 409, "start_date")
    # the same dates for someone else, and the afternoon after a morning-only leave, are fine
    assert (
        api("post", "absences", admin, json=leave | {"person_id": world.other}).status_code == 201
    )
    morning = {
        "person_id": world.me,
        "kind": "on_call",
        "start_date": "2050-07-01",
        "end_date": "2050-07-01",
        "end_half": "AM",
    }
    assert api("post", "absences", admin, json=morning).status_code == 201
    afternoon = morning | {"start_half": "PM", "end_half": "PM"}
    assert api("post", "absences", admin, json=afternoon).status_code == 201
    # moving a leave onto another is refused too
    ident = api("get", f"absences?person_id={world.me}&kind=on_call", admin).get_json()["items"][0][
        "id"
    ]
    assert_problem(
        api(
            "patch",
            f"absences/{ident}",
            admin,
            json={"start_date": "2050-06-03", "end_date": "2050-06-03"},
        ),
        409,
    )


def test_leave_ending_before_it_starts_is_422(api: Any, world: Any, admin: dict[str, str]) -> None:
    leave = {
        "person_id": world.me,
        "kind": "annual",
        "start_date": "2050-06-05",
        "end_date": "2050-06-01",
    }
    assert_problem(api("post", "absences", admin, json=leave), 422, "end_date")
    same_day = leave | {"end_date": "2050-06-05", "start_half": "PM", "end_half": "AM"}
    assert_problem(api("post", "absences", admin, json=same_day), 422, "end_date")
    ident = world.record_of("absences")
    assert_problem(
        api("patch", f"absences/{ident}", admin, json={"end_date": "2000-01-01"}), 422, "end_date"
    )


def test_assignment_ending_before_it_starts_is_422(
    api: Any, world: Any, admin: dict[str, str]
) -> None:
    body = world.payload("assignments") | {"start_date": "2030-05-01", "end_date": "2030-04-01"}
    assert_problem(api("post", "assignments", admin, json=body), 422, "end_date")


def test_quorum_above_team_size_is_422(api: Any, world: Any, admin: dict[str, str]) -> None:
    body = world.payload("teams") | {"member_ids": [world.me, world.other], "quorum": 3}
    assert_problem(api("post", "teams", admin, json=body), 422, "quorum")
    team = api("post", "teams", admin, json=body | {"quorum": 2}).get_json()
    assert_problem(
        api("patch", f"teams/{team['id']}", admin, json={"member_ids": [world.me]}), 422, "quorum"
    )
    assert_problem(api("patch", f"teams/{team['id']}", admin, json={"quorum": 5}), 422, "quorum")
    assert api("get", f"teams/{team['id']}", admin).get_json()["member_ids"] == [
        world.me,
        world.other,
    ]


def test_nurse_without_a_band_is_422_not_500(api: Any, world: Any, admin: dict[str, str]) -> None:
    body = world.payload("people") | {"profession": "nurse"}
    assert_problem(api("post", "people", admin, json=body), 422, "band")


def test_delete_of_an_organisation_still_used_is_409(
    api: Any, world: Any, admin: dict[str, str]
) -> None:
    r = api("delete", f"organisations/{world.org}", admin)
    assert_problem(r, 409)
    assert api("get", f"organisations/{world.org}", admin).status_code == 200
    # and everything that used it is still there
    assert api("get", f"people/{world.me}", admin).status_code == 200
    assert api("get", f"departments/{world.dept}", admin).status_code == 200


@pytest.mark.parametrize("collection", ["departments", "roles"])
def test_delete_of_other_records_still_used_is_409(
    api: Any, world: Any, admin: dict[str, str], collection: str
) -> None:
    ident = world.dept if collection == "departments" else world.record_of("roles")
    if collection == "roles":  # give the role a holder
        body = world.payload("assignments") | {"role_id": ident}
        assert api("post", "assignments", admin, json=body).status_code == 201
    # a department's people would silently lose their department: refused like the rest
    assert_problem(api("delete", f"{collection}/{ident}", admin), 409)
    assert api("get", f"{collection}/{ident}", admin).status_code == 200
    assert api("get", f"people/{world.me}", admin).get_json()["department_id"] == world.dept


def test_delete_of_a_user_with_tokens(
    api: Any, world: Any, admin: dict[str, str], login_as: Any
) -> None:
    finance = login_as("finance")
    users = api("get", "users?role=finance", admin).get_json()["items"]
    ident = next(u["id"] for u in users if u["email"].startswith("finance"))
    assert api("delete", f"users/{ident}", admin).status_code == 204
    assert_problem(api("get", "rates", finance), 401)


def test_unknown_id_is_404(api: Any, world: Any, admin: dict[str, str]) -> None:
    for collection in COLLECTIONS:
        for ident in (0, 424242, 2**31, 2**63, 10**30):
            assert_problem(api("get", f"{collection}/{ident}", admin), 404)
        if collection != "audit":
            assert_problem(api("patch", f"{collection}/424242", admin, json={}), 404)
            assert_problem(api("delete", f"{collection}/{2**63}", admin), 404)
    assert_problem(api("get", "people/-1", admin), 404)
    assert_problem(api("get", "people/abc", admin), 404)


# -- lists: pagination and filters -------------------------------------------------------------


def test_pagination(api: Any, world: Any, admin: dict[str, str], make: Any) -> None:
    for i in range(7):
        make("organisations", name=f"Zed {i}")
    everything = api("get", "organisations?per_page=500", admin).get_json()
    total = everything["total"]
    assert total == len(everything["items"]) == 8
    seen = []
    for page in (1, 2, 3):
        r = api("get", f"organisations?page={page}&per_page=3", admin).get_json()
        assert r["page"] == page and r["per_page"] == 3 and r["total"] == total
        seen += [o["id"] for o in r["items"]]
    assert seen == [o["id"] for o in everything["items"]]
    beyond = api("get", "organisations?page=9&per_page=3", admin).get_json()
    assert beyond["items"] == [] and beyond["total"] == total
    default = api("get", "organisations", admin).get_json()
    assert default["page"] == 1 and default["per_page"] == 50


@pytest.mark.parametrize(
    "query,fields",
    [
        ("page=0", {"page"}),
        ("page=-1", {"page"}),
        ("page=x", {"page"}),
        ("page=1.5", {"page"}),
        ("page=100001", {"page"}),
        ("per_page=0", {"per_page"}),
        ("per_page=501", {"per_page"}),
        ("per_page=", {"per_page"}),
        ("page=99999999999999999999999", {"page"}),
        ("page=0&per_page=0&colour=red", {"page", "per_page", "colour"}),
    ],
)
def test_bad_pagination_is_400(
    api: Any, world: Any, admin: dict[str, str], query: str, fields: set[str]
) -> None:
    r = api("get", f"people?{query}", admin)
    assert_problem(r, 400, *fields)


def test_filters(api: Any, world: Any, admin: dict[str, str], make: Any) -> None:
    make("people", organisation_id=world.org, profession="gp", active=False)
    r = api("get", "people?profession=gp&active=false", admin).get_json()
    assert r["total"] == 1 and r["items"][0]["profession"] == "gp"
    assert api("get", f"people?organisation_id={world.org}", admin).get_json()["total"] == 3
    assert api("get", "people?q=amara", admin).get_json()["total"] == 1
    assert api("get", "people?q=AMARA", admin).get_json()["items"][0]["id"] == world.me
    assert api("get", f"absences?person_id={world.me}", admin).get_json()["total"] == 1


@pytest.mark.parametrize(
    "collection,query,fields",
    [
        ("people", "profession=wizard", {"profession"}),
        ("people", "active=maybe", {"active"}),
        ("people", "organisation_id=abc", {"organisation_id"}),
        ("people", "organisation_id=99999999999999999999", {"organisation_id"}),
        ("people", "colour=red", {"colour"}),
        ("people", "fte=1", {"fte"}),
        ("people", "profession=wizard&colour=red&page=0", {"profession", "colour", "page"}),
        ("people", "q=%00", {"q"}),
        ("people", "staff_group=a%00b", {"staff_group"}),
        ("organisations", "kind=hospital", {"kind"}),
        ("organisations", "borough=Croydon", {"borough"}),
        ("absences", "kind=holiday", {"kind"}),
        ("teams", "sessions_per=year", {"sessions_per"}),
        ("users", "role=root", {"role"}),
        ("audit", "entity_id=1&sort=desc", {"sort"}),
        ("absences", "q=annual", {"q"}),  # no text search on leave: q is not silently ignored
    ],
)
def test_bad_filter_is_400_naming_it(
    api: Any, world: Any, admin: dict[str, str], collection: str, query: str, fields: set[str]
) -> None:
    assert_problem(api("get", f"{collection}?{query}", admin), 400, *fields)


# -- updates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "collection,change",
    [
        ("organisations", {"name": "Renamed"}),
        ("departments", {"max_away": 4}),
        ("people", {"specialty": "stroke"}),
        ("absences", {"note": "conference"}),
        ("preferences", {"half": "PM"}),
        ("roles", {"description": "Leads the borough"}),
        ("assignments", {"share": 0.4}),
        ("teams", {"location": "Room 2"}),
        ("rates", {"source": "a newer source"}),
        ("users", {"name": "Renamed"}),
    ],
)
def test_patch_changes_only_what_is_sent(
    api: Any, world: Any, admin: dict[str, str], collection: str, change: dict[str, Any]
) -> None:
    ident = world.record_of(collection)
    before = api("get", f"{collection}/{ident}", admin).get_json()
    r = api("patch", f"{collection}/{ident}", admin, json=change)
    assert r.status_code == 200, r.get_json()
    after = api("get", f"{collection}/{ident}", admin).get_json()
    assert after == r.get_json()
    assert {k: v for k, v in after.items() if k not in change} == {
        k: v for k, v in before.items() if k not in change
    }
    for key, value in change.items():
        assert after[key] == value


def test_patch_keeps_a_persons_pattern_and_staff_group(
    api: Any, world: Any, admin: dict[str, str]
) -> None:
    pattern = [
        {"day": "Tue", "half": "AM", "kind": "non_clinical"},
        {"day": "Thu", "half": "PM", "kind": "clinical"},
    ]
    person = api(
        "post",
        "people",
        admin,
        json=world.payload("people") | {"pattern": pattern, "backfill_rate": "61.25", "fte": 0.6},
    ).get_json()
    after = api("patch", f"people/{person['id']}", admin, json={"name": "New Name"}).get_json()
    assert after["pattern"] == pattern
    assert after["backfill_rate"] == 61.25 and after["fte"] == 0.6
    assert after["staff_group"] == person["staff_group"]


@pytest.mark.parametrize(
    "collection,field",
    [
        ("organisations", "name"),
        ("people", "email"),
        ("absences", "start_date"),
        ("roles", "level"),
        ("teams", "sessions_per"),
        ("users", "role"),
        ("preferences", "day"),
    ],
)
def test_patch_null_for_a_required_field_is_422(
    api: Any, world: Any, admin: dict[str, str], collection: str, field: str
) -> None:
    ident = world.record_of(collection)
    before = api("get", f"{collection}/{ident}", admin).get_json()
    assert_problem(api("patch", f"{collection}/{ident}", admin, json={field: None}), 422, field)
    assert api("get", f"{collection}/{ident}", admin).get_json() == before


# -- nothing is ever a 500 ---------------------------------------------------------------------


def _garbage(collection: str) -> list[Any]:
    fields = list(ENTITIES[collection].create_schema.model_fields)
    nested: dict[str, Any] = {"a": [1, {"b": {"c": [None, {"d": "e" * 10}]}}]}
    return [
        {},
        [],
        [{}],
        "text",
        0,
        -1,
        1.5,
        True,
        {"": None},
        {"\x00": 1},
        {f: None for f in fields},
        {f: nested for f in fields},
        {f: [] for f in fields},
        {f: [[[]]] for f in fields},
        {f: {} for f in fields},
        {f: "x" * 100_000 for f in fields},
        {f: "\x00" for f in fields},
        {f: "💥" * 300 for f in fields},
        {f: 10**40 for f in fields},
        {f: -(10**40) for f in fields},
        {f: 2**31 for f in fields},
        {f: 2**63 for f in fields},
        {f: -1 for f in fields},
        {f: 0 for f in fields},
        {f: 1e308 for f in fields},
        {f: True for f in fields},
        {f: "9999-12-31" for f in fields},
        {f: "0001-01-01" for f in fields},
        {f: "2024-02-30" for f in fields},
        {f: ["Mon/AM", "Mon/AM"] for f in fields},
        [{f: "x" for f in fields}],
        {**{f: None for f in fields}, "extra": {"nested": [1, 2, 3]}},
    ]


RAW_GARBAGE = [
    '{"fte": NaN, "rate_per_hour": Infinity, "quorum": -Infinity}',
    '{"a": ' * 2000 + "1" + "}" * 2000,
    "[" * 50_000 + "]" * 50_000,
    '{"name": "\\ud800"}',
    "\ufeff[]",
    "null",
    "1e999999",
]


@pytest.mark.parametrize("collection", WRITABLE)
def test_garbage_is_never_a_500(
    api: Any, world: Any, admin: dict[str, str], collection: str
) -> None:
    ident = world.record_of(collection)
    before = api("get", f"{collection}/{ident}", admin).get_json()
    bad = []

    def check(method: str, shown: str, r: Any, patch_may_pass: bool = False) -> None:
        ok = 400 <= r.status_code < 500 and r.mimetype == "application/problem+json"
        if not ok and not (patch_may_pass and method == "patch" and r.status_code == 200):
            bad.append(f"{method} {shown[:80]} -> {r.status_code} {r.get_data(as_text=True)[:200]}")

    for body in _garbage(collection):
        for method, path in (("post", collection), ("patch", f"{collection}/{ident}")):
            check(method, json.dumps(body), api(method, path, admin, json=body), body == {})
    for raw in RAW_GARBAGE:
        for method, path in (("post", collection), ("patch", f"{collection}/{ident}")):
            r = api(method, path, admin, data=raw, content_type="application/json")
            check(method, f"raw {raw!r}", r)
    assert not bad, "\n".join(bad)
    # and the record survived all of that unchanged
    assert api("get", f"{collection}/{ident}", admin).get_json() == before


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_garbage_queries_are_never_a_500(
    api: Any, world: Any, admin: dict[str, str], collection: str
) -> None:
    filters = ENTITIES[collection].filters
    bad = []
    for value in (
        "",
        "x" * 10_000,
        "%",
        "_",
        "'; drop table person; --",
        "%00",
        "%FF%FE",
        "1e9",
        "-99999999999999999999",
        "true",
        "null",
        "[]",
        "💥",
    ):
        query = "&".join([f"{f}={value}" for f in filters] + [f"q={value}"])
        r = api("get", f"{collection}?{query}", admin)
        if r.status_code >= 500 or (
            r.status_code >= 400 and r.mimetype != "application/problem+json"
        ):
            bad.append(f"{query[:80]} -> {r.status_code} {r.get_data(as_text=True)[:200]}")
    assert not bad, "\n".join(bad)


def test_schema_lengths_fit_the_columns() -> None:
    """A string the schema accepts always fits its column (PostgreSQL would refuse it with a
    500)."""
    import sqlalchemy as sa
    from pydantic import ValidationError

    too_long = []
    for entity in ENTITIES.values():
        if entity.name == "audit":  # read-only: its schemas never reach the database
            continue
        columns = sa.inspect(entity.model).columns
        for schema in (entity.create_schema, entity.patch_schema):
            for name in schema.model_fields:
                length = getattr(getattr(columns.get(name), "type", None), "length", None)
                if length is None:
                    continue
                try:
                    schema.model_validate({name: "a" * (length + 1)})
                except ValidationError as exc:
                    if any(e["loc"][:1] == (name,) for e in exc.errors()):
                        continue
                too_long.append(f"{schema.__name__}.{name} accepts more than {length} characters")
    assert not too_long, "\n".join(too_long)


def test_organisation_code_longer_than_its_column_is_422(
    api: Any, world: Any, admin: dict[str, str]
) -> None:
    body = world.payload("organisations") | {"code": "c" * 41}
    assert_problem(api("post", "organisations", admin, json=body), 422, "code")


def test_wrong_method_is_405_problem(api: Any, world: Any, admin: dict[str, str]) -> None:
    r = api("put", f"people/{world.me}", admin, json={})
    assert_problem(r, 405)
    assert "PATCH" in r.headers["Allow"]
    assert_problem(api("post", f"people/{world.me}", admin, json={}), 405)
    assert_problem(api("delete", "people", admin), 405)


def test_body_over_the_size_limit_is_413(api: Any, world: Any, admin: dict[str, str]) -> None:
    big = '{"name": "' + "x" * (6 * 1024 * 1024) + '"}'
    assert_problem(
        api("post", "organisations", admin, data=big, content_type="application/json"), 413
    )
