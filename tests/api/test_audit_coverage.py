"""Every kind of write leaves an audit row naming who (actor), what (action) and which record
(entity and id): CRUD on each collection, import, plan create/edit/pin/move/publish/resolve,
delivery records, feed link create/reset/revoke, and API tokens made and revoked on the CLI."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from support.published import published_app_config, published_system  # noqa: F401  (fixtures)
from support.worlds import START, WEEKS

from sel_time.core.extensions import db
from sel_time.models import ApiToken, AuditEvent, Plan, PlanSession


class Trail:
    """Checks that the writes since the last check added the expected audit rows."""

    def __init__(self) -> None:
        self.mark = self._last()
        self.missing: list[str] = []

    @staticmethod
    def _last() -> int:
        return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0

    def expect(
        self, what: str, actor: str, action: str, entity: str, entity_id: Any = None
    ) -> None:
        db.session.rollback()
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > self.mark)).all()
        hit = [
            r
            for r in rows
            if r.actor == actor
            and r.action == action
            and r.entity == entity
            and (entity_id is None or r.entity_id == str(entity_id))
        ]
        if not hit:
            seen = [(r.actor, r.action, r.entity, r.entity_id) for r in rows]
            self.missing.append(f"{what}: no ({actor}, {action}, {entity}, {entity_id}) in {seen}")
        self.mark = self._last()


def test_every_write_is_audited(app: Any, client: Any, runner: Any, system: Any) -> None:
    trail = Trail()
    admin, rota = system.headers["admin"], system.headers["rota_manager"]
    admin_email, rota_email = "admin@hardening.test", "rota_manager@hardening.test"

    # -- CRUD on every collection ------------------------------------------------------------
    payloads = {
        "organisations": (
            {"code": "aud-org", "name": "Audit Org", "kind": "icb", "borough": "Southwark"},
            {"name": "Audit Org 2"},
        ),
        "departments": (
            {"code": "aud-dept", "name": "Audit Dept", "organisation_id": system.org},
            {"max_away": 2},
        ),
        "people": (
            {
                "email": "aud@nhs.net",
                "name": "Audit Person",
                "profession": "gp",
                "organisation_id": system.org,
            },
            {"specialty": "audit"},
        ),
        "absences": (
            {
                "person_id": system.ada,
                "kind": "annual",
                "start_date": "2031-03-02",
                "end_date": "2031-03-03",
            },
            {"note": "audited"},
        ),
        "preferences": ({"person_id": system.ada, "day": "Fri", "half": "PM"}, {"half": "AM"}),
        "roles": (
            {
                "code": "aud-role",
                "title": "Audit Role",
                "level": "system",
                "host_organisation_id": system.org,
                "commitment_amount": 1,
                "commitment_unit": "pa",
                "commitment_per": "month",
            },
            {"budget_code": "AUD"},
        ),
        "assignments": (
            {"person_id": system.ben, "role_id": None, "start_date": "2031-01-01"},
            {"share": 0.5},
        ),
        "teams": (
            {
                "code": "aud-team",
                "name": "Audit Team",
                "kind": "board",
                "sessions_per": "month",
                "quorum": 1,
                "member_ids": [system.ada],
            },
            {"location": "Room 9"},
        ),
        "rates": (
            {
                "staff_group": "audit_group",
                "label": "Audit",
                "rate_per_hour": "10.00",
                "effective_from": "2030-04-01",
                "source": "test",
            },
            {"label": "Audit 2"},
        ),
        "users": (
            {"email": "aud-user@nhs.net", "name": "Audit User", "role": "finance"},
            {"name": "U2"},
        ),
    }
    created: dict[str, int] = {}
    for collection, (body, change) in payloads.items():
        if collection == "assignments":
            body = {**body, "role_id": created["roles"]}
        r = client.post(f"/api/v1/{collection}", headers=admin, json=body)
        assert r.status_code == 201, (collection, r.get_json())
        ident = created[collection] = r.get_json()["id"]
        trail.expect(f"create {collection}", admin_email, "create", collection, ident)
        r = client.patch(f"/api/v1/{collection}/{ident}", headers=admin, json=change)
        assert r.status_code == 200, (collection, r.get_json())
        trail.expect(f"update {collection}", admin_email, "update", collection, ident)
    for collection in reversed(list(payloads)):  # dependants first
        r = client.delete(f"/api/v1/{collection}/{created[collection]}", headers=admin)
        assert r.status_code == 204, (collection, r.get_json())
        trail.expect(f"delete {collection}", admin_email, "delete", collection, created[collection])

    # -- import ------------------------------------------------------------------------------
    csv = b"email,kind,start_date,end_date\r\nada@nhs.net,study,2032-05-04,2032-05-05\r\n"
    r = client.post(
        "/api/v1/import",
        headers=rota,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv), "leave.csv")},
    )
    assert r.status_code == 200, r.get_json()
    trail.expect("import", rota_email, "import", "spreadsheet")

    # -- plans: create, pin, unpin, move, add, remove, resolve, publish --------------------------
    r = client.post(
        "/api/v1/plans",
        headers=rota,
        json={"start": START.isoformat(), "weeks": WEEKS, "scope": "system", "time_limit": 2},
    )
    assert r.status_code == 202, r.get_json()
    plan = r.get_json()["id"]
    assert db.session.get(Plan, plan).status.value == "draft"
    trail.expect("plan create", rota_email, "create", "plan", plan)
    sid = db.session.scalar(
        sa.select(PlanSession.id).where(
            PlanSession.plan_id == plan, PlanSession.person_id.is_not(None)
        )
    )
    for pinned, action in ((True, "pin"), (False, "unpin")):
        r = client.patch(
            f"/api/v1/plans/{plan}/sessions/{sid}", headers=rota, json={"pinned": pinned}
        )
        assert r.status_code == 200, r.get_json()
        trail.expect(action, rota_email, action, "plan_session", sid)
    slots = [
        f"{START + timedelta(days=d)}/{h}"
        for d in range(WEEKS * 7)
        if (START + timedelta(days=d)).weekday() < 5
        for h in ("AM", "PM")
    ]
    moved = next(
        (
            s
            for s in slots
            if client.patch(
                f"/api/v1/plans/{plan}/sessions/{sid}", headers=rota, json={"slot": s}
            ).status_code
            == 200
        ),
        None,
    )
    assert moved, "no slot to move the session to"
    trail.expect("move", rota_email, "move", "plan_session", sid)
    client.patch(f"/api/v1/plans/{plan}/sessions/{sid}", headers=rota, json={"pinned": False})
    trail.mark = trail._last()
    assignment = db.session.get(PlanSession, sid).assignment_id
    r = client.delete(f"/api/v1/plans/{plan}/sessions/{sid}", headers=rota)
    assert r.status_code == 204, r.get_json()
    trail.expect("remove", rota_email, "remove", "plan_session", sid)
    r = client.post(
        f"/api/v1/plans/{plan}/sessions",
        headers=rota,  # put it back by hand
        json={"assignment_id": assignment, "slot": moved},
    )
    assert r.status_code == 201, r.get_json()
    trail.expect("add", rota_email, "add", "plan_session", r.get_json()["id"])
    r = client.post(f"/api/v1/plans/{plan}/resolve", headers=rota, json={"time_limit": 2})
    assert r.status_code == 202, r.get_json()
    trail.expect("resolve", rota_email, "resolve", "plan", plan)
    r = client.post(f"/api/v1/plans/{plan}/publish", headers=rota)
    assert r.status_code == 200, r.get_json()
    trail.expect("publish", rota_email, "publish", "plan", plan)

    # -- delivery ----------------------------------------------------------------------------
    r = client.post(
        f"/api/v1/attendances/{system.ada_attendance}/delivery",
        headers=system.headers["leader"],
        json={"outcome": "partial", "fraction_taken": 0.5},
    )
    assert r.status_code == 200, r.get_json()
    trail.expect(
        "delivery", "leader@hardening.test", "record_delivery", "attendance", system.ada_attendance
    )

    from sel_time.delivery import recording
    from sel_time.models import Attendance

    link_token = recording.delivery_link_token(db.session.get(Attendance, system.ben_attendance))
    db.session.rollback()
    r = client.post(f"/record/{link_token}", data={"outcome": "taken"})  # the one-click page
    assert r.status_code == 200, r.get_data(as_text=True)[-600:]
    trail.expect(
        "one-click delivery",
        "link:ben@nhs.net",
        "record_delivery",
        "attendance",
        system.ben_attendance,
    )

    # -- feed links: create, reset (issue again), revoke ---------------------------------------
    me = system.headers["leader"]
    r = client.post("/api/v1/feeds", headers=me, json={"kind": "team", "target_id": system.team})
    assert r.status_code == 201
    link = r.get_json()["id"]
    trail.expect("feed create", "leader@hardening.test", "create", "feed_token", link)
    r = client.post("/api/v1/feeds", headers=me, json={"kind": "team", "target_id": system.team})
    trail.expect("feed reset", "leader@hardening.test", "revoke", "feed_token", link)
    link = r.get_json()["id"]
    assert client.delete(f"/api/v1/feeds/{link}", headers=me).status_code == 204
    trail.expect("feed revoke", "leader@hardening.test", "revoke", "feed_token", link)

    # -- API tokens on the CLI ---------------------------------------------------------------
    result = runner.invoke(args=["sel-time", "token", "create", "--user", "finance@hardening.test"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    token = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id.desc())).first()
    trail.expect("token create", "cli", "create", "api_token", token.id)
    result = runner.invoke(args=["sel-time", "token", "revoke", token.prefix])
    assert result.exit_code == 0, result.output
    trail.expect("token revoke", "cli", "revoke", "api_token", token.id)

    assert not trail.missing, "\n".join(trail.missing)
