"""Who may call the endpoints that tests/api/test_access.py does not cover (plans, the roster,
delivery, feed links, costs, jobs, import), every role and anonymous; and leaders never see
another leader's roster, delivery, feed links or attendances.

Expected access is written out from the design (issue 2 and the role model), not read from
the code: plans are read by admin, rota manager and finance and changed by admin and rota
manager; costs by admin, rota manager and finance; the roster, delivery summary and feed
links by everyone signed in (leaders: their own); delivery is recorded by admin, rota
manager and the leader it belongs to; import by admin and rota manager.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from support.published import published_app_config, published_system  # noqa: F401  (fixtures)
from support.worlds import START

from sel_time.core.clock import now_utc
from sel_time.core.extensions import db
from sel_time.delivery import recording
from sel_time.models import FeedToken, PlanSession, WhatIfRun, WhatIfStatus

EVERYONE = {"admin", "rota_manager", "finance", "leader"}
MANAGE = {"admin", "rota_manager"}
STAFF = {"admin", "rota_manager", "finance"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    allowed: set[str]
    ok: tuple[int, ...] = (200,)  # what an allowed role gets (state may make a write 409)
    json: Any = None
    upload: bool = False


def calls(s: Any) -> list[Call]:
    plan = s.plan
    sid = db.session.scalar(sa.select(PlanSession.id).where(PlanSession.plan_id == plan))
    slot = f"{START.isoformat()}/AM"
    run = WhatIfRun(
        status=WhatIfStatus.QUEUED,
        request={"start": START.isoformat(), "weeks": 1},
        requested_by="cli",
        created_at=now_utc(),
    )
    db.session.add(run)
    db.session.commit()
    return [
        Call("GET", "/api/v1/plans", STAFF),
        Call("GET", f"/api/v1/plans/{plan}", STAFF),
        Call("GET", "/api/v1/plans/published", STAFF),
        Call("GET", f"/api/v1/plans/{plan}/sessions", STAFF),
        Call("GET", f"/api/v1/plans/{plan}/shortfalls", STAFF),
        Call("GET", f"/api/v1/plans/{plan}/problem", STAFF),
        Call("GET", f"/api/v1/plans/{plan}/solution", STAFF),
        Call("POST", f"/api/v1/plans/{plan}/publish", MANAGE),
        # the plan is published: edits are refused as 409 once the role check has passed
        Call(
            "POST",
            f"/api/v1/plans/{plan}/sessions",
            MANAGE,
            (409,),
            {"assignment_id": s.ada_assignment, "slot": slot},
        ),
        Call("PATCH", f"/api/v1/plans/{plan}/sessions/{sid}", MANAGE, (409,), {"pinned": True}),
        Call("DELETE", f"/api/v1/plans/{plan}/sessions/{sid}", MANAGE, (409,)),
        Call("POST", f"/api/v1/plans/{plan}/resolve", MANAGE, (409, 202), {"time_limit": 1}),
        Call(
            "POST",
            "/api/v1/plans",
            MANAGE,
            (202, 409),
            {"start": START.isoformat(), "weeks": 1, "scope": "team:kch-lt", "time_limit": 1},
        ),
        Call("GET", "/api/v1/roster", EVERYONE),
        Call("GET", "/api/v1/delivery", EVERYONE),
        Call(
            "POST",
            f"/api/v1/attendances/{s.ada_attendance}/delivery",
            MANAGE | {"leader"},
            (200,),
            {"outcome": "taken"},
        ),
        Call("GET", "/api/v1/feeds", EVERYONE),
        Call(
            "POST",
            "/api/v1/feeds",
            MANAGE | {"leader"},
            (201,),
            {"kind": "person", "target_id": s.ada},
        ),
        Call("GET", "/api/v1/costs", STAFF),
        Call("GET", "/api/v1/costs/export?format=csv", STAFF),
        Call("GET", "/api/v1/costs/export?format=xlsx", STAFF),
        Call(
            "POST",
            "/api/v1/costs/whatif",
            STAFF,
            (202,),
            {"start": START.isoformat(), "weeks": 1, "time_limit": 5, "scope": "team:kch-lt"},
        ),
        Call("GET", f"/api/v1/costs/whatif/{run.id}", STAFF),
        Call("GET", "/api/v1/costs/whatif", STAFF),
        Call("GET", "/api/v1/jobs", STAFF),
        Call("POST", "/api/v1/import", MANAGE, (200,), upload=True),
        Call("GET", "/api/v1/import/templates/people.csv", EVERYONE),
    ]


def _send(client: Any, call: Call, headers: dict[str, str]) -> Any:
    if call.upload:
        data = {
            "file": (
                io.BytesIO(
                    b"email,kind,start_date,end_date\r\n"
                    b"ada@nhs.net,annual,2027-06-01,2027-06-01\r\n"
                ),
                "leave.csv",
            )
        }
        return client.post(
            call.path, headers=headers, data=data, content_type="multipart/form-data"
        )
    return client.open(call.path, method=call.method, headers=headers, json=call.json)


@pytest.mark.slow
def test_access_table(client: Any, system: Any) -> None:
    wrong = []
    for call in calls(system):
        for role in (None, "admin", "rota_manager", "finance", "leader"):
            headers = {} if role is None else system.headers[role]
            response = _send(client, call, headers)
            if role is None:
                expected: tuple[int, ...] = (401,)
            elif role in call.allowed:
                expected = call.ok
            else:
                expected = (403,)
            if response.status_code not in expected:
                wrong.append(
                    f"{call.method} {call.path} as {role or 'anonymous'}: "
                    f"{response.status_code}, expected {expected}: "
                    f"{response.get_data(as_text=True)[:160]}"
                )
            elif response.status_code >= 400:
                assert response.mimetype == "application/problem+json", call.path
    assert not wrong, "\n".join(wrong)


def _person_ids_in_roster(body: dict[str, Any]) -> set[int]:
    return {a["person_id"] for item in body["items"] for a in item["attendances"]}


def test_leaders_see_only_their_own(client: Any, system: Any) -> None:
    me, other = system.headers["leader"], system.headers["leader_other"]
    # roster: my attendances only, even when I ask for someone else's (the plan's period, which
    # is fixed, rather than the default one, which moves with today)
    period = f"from={START - timedelta(days=7)}&to={START + timedelta(weeks=4)}"
    for query in (f"?{period}", f"?{period}&person_id={system.ben}"):
        mine = client.get(f"/api/v1/roster{query}", headers=me).get_json()
        assert mine["items"] and _person_ids_in_roster(mine) == {system.ada}
    manager_view = client.get(
        f"/api/v1/roster?{period}", headers=system.headers["rota_manager"]
    ).get_json()
    assert {system.ada, system.ben} <= _person_ids_in_roster(manager_view)
    # delivery summary: the figures of my sessions only, over the period it answers for
    body = client.get("/api/v1/delivery?by=person", headers=me).get_json()
    first, last = date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
    got = body["items"]
    assert got == recording.planned_vs_delivered("person", first, last, system.ada)
    assert got != recording.planned_vs_delivered("person", first, last, None)
    # attendances: another leader's is "not found", and stays unrecorded
    r = client.post(
        f"/api/v1/attendances/{system.ben_attendance}/delivery",
        headers=me,
        json={"outcome": "taken"},
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/attendances/{system.ben_attendance}/delivery",
        headers=other,
        json={"outcome": "taken"},
    )
    assert r.status_code == 200
    # feed links: mine only; another leader's cannot be listed, made, or revoked
    links = client.get("/api/v1/feeds", headers=me).get_json()["items"]
    assert [x["id"] for x in links] == [system.feed_ids["ada"]]
    assert (
        client.post(
            "/api/v1/feeds", headers=me, json={"kind": "person", "target_id": system.ben}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/feeds", headers=me, json={"kind": "organisation", "target_id": system.org}
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/feeds/{system.feed_ids['ben']}", headers=me).status_code == 404
    assert db.session.get(FeedToken, system.feed_ids["ben"]).revoked_at is None
    # a leader's own team and department feeds are allowed
    assert (
        client.post(
            "/api/v1/feeds", headers=me, json={"kind": "team", "target_id": system.team}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/feeds", headers=me, json={"kind": "department", "target_id": system.dept}
        ).status_code
        == 201
    )


def test_finance_cannot_record_delivery_and_leaders_cannot_read_plans(
    client: Any, system: Any
) -> None:
    check: list[tuple[str, str, str, Callable[[Any], bool]]] = [
        (
            "finance",
            "POST",
            f"/api/v1/attendances/{system.ada_attendance}/delivery",
            lambda r: r.status_code == 403,
        ),
        ("leader", "GET", f"/api/v1/plans/{system.plan}/problem", lambda r: r.status_code == 403),
        ("leader", "GET", "/api/v1/costs/export", lambda r: r.status_code == 403),
    ]
    for role, method, path, ok in check:
        r = client.open(
            path, method=method, headers=system.headers[role], json={"outcome": "taken"}
        )
        assert ok(r), (role, path, r.status_code)


def test_ids_beyond_32_bits_are_404_everywhere(app: Any, client: Any, system: Any) -> None:
    """An id no database can hold is "not found" on every route with an ``<int:...>`` (SQLite
    could not even bind it past 64 bits: it was a 500 on POST /attendances/<id>/delivery)."""
    huge = 10**30
    admin = system.headers["admin"]
    for method, path in [
        ("POST", f"/api/v1/attendances/{huge}/delivery"),
        ("DELETE", f"/api/v1/feeds/{huge}"),
        ("GET", f"/api/v1/people/{huge}"),
        ("GET", f"/api/v1/plans/{huge}"),
        ("PATCH", f"/api/v1/plans/{system.plan}/sessions/{huge}"),
        ("GET", f"/api/v1/roster?person_id={huge}"),
    ]:
        r = client.open(
            path, method=method, headers=admin, json={"outcome": "taken", "pinned": True}
        )
        assert r.status_code in (400, 404), (path, r.status_code, r.get_data(as_text=True)[:200])
        assert r.mimetype == "application/problem+json"
    from werkzeug.security import generate_password_hash

    from sel_time.models import User, UserRole

    db.session.add(
        User(
            email="pages@hardening.test",
            name="p",
            role=UserRole.ROTA_MANAGER,
            password_hash=generate_password_hash("page-password-1", method="pbkdf2:sha256:1000"),
        )
    )
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    assert (
        client.post(
            "/login", data={"email": "pages@hardening.test", "password": "page-password-1"}
        ).status_code
        == 302
    )
    for path in (
        f"/manage/people/{huge}",
        f"/manage/plans/{huge}",
        f"/manage/plans/{system.plan}/sessions/{huge}",
    ):
        assert client.get(path).status_code == 404, path
