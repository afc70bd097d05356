"""Pages for finance: planned vs delivered vs budget by month, organisation and profession,
with charts drawn on the server (they work without JavaScript), exports and what-if."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.cache import VersionedCache
from ..core.clock import next_monday
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..core.validation import date_in_range
from ..models import Organisation, Profession, UserRole
from ..web import bp, roles_required
from ..web.formats import label
from . import snapshots
from . import tasks as whatif_tasks
from .dashboard import GROUPS, dashboard_data
from .schemas import WhatIfRequest
from .whatif import describe_request, get_run, recent_runs, request_whatif, run_dict

FINANCE_ROLES = (UserRole.FINANCE, UserRole.ADMIN, UserRole.ROTA_MANAGER)
RECENT_SHOWN = 20  # what-ifs listed under the form
def _period() -> tuple[date | None, date | None, list[FieldError]]:
    errors, out = [], []
    for name in ("from", "to"):
        raw = request.args.get(name, "").strip()
        try:
            out.append(date_in_range(raw) if raw else None)
        except ValueError as exc:
            errors.append(FieldError(name, f"Enter {exc}"))
            out.append(None)
    return out[0], out[1], errors


DASHBOARDS = VersionedCache(size=32)


def _figures(first: date | None, last: date | None, org: str | None) -> dict[str, Any]:
    """The dashboard's figures: for the default view, those a worker kept after the last write
    (if it has run); otherwise worked out here."""
    if first is None and last is None and org is None:
        kept = snapshots.stored()
        if kept is not None:
            return kept
    return dashboard_data(first, last, org)


@bp.get("/finance")
@roles_required(*FINANCE_ROLES)
def finance_dashboard() -> Any:
    first, last, errors = _period()
    org = request.args.get("organisation") or None
    page: dict[str, Any] = {"data": {}, "charts": {}, "shares": None, "empty": False}
    if not errors:
        try:
            page = DASHBOARDS.get((first, last, org), lambda: _figures(first, last, org))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("organisation", exc.detail)]
    orgs = [
        (o.code, o.name)
        for o in db.session.scalars(sa.select(Organisation).order_by(Organisation.name))
    ]
    query = request.query_string.decode()
    return render_template(
        "finance/dashboard.html",
        title="Backfill cost",
        groups=GROUPS,
        errors=errors,
        orgs=orgs,
        org=org,
        first=request.args.get("from", ""),
        last=request.args.get("to", ""),
        query=query,
        **page,
    ), (400 if errors else 200)


@bp.route("/finance/whatif", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def whatif_page() -> Any:
    """The what-if form; a valid one queues a run and goes to its page (which shows progress)."""
    errors: list[FieldError] = []
    values = (
        request.form.to_dict()
        if request.method == "POST"
        else {"start": next_monday().isoformat(), "weeks": "12", "time_limit": "20"}
    )
    if request.method == "POST":
        try:
            with boundary():  # committed, then queued for a worker
                run = whatif_tasks.queue_run(
                    request_whatif(_whatif_request(values), Actor.for_user(current_user)))
            return redirect(url_for("web.whatif_run_page", run_id=run.id))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("start", exc.detail)]
    return render_template(
        "finance/whatif.html",
        title="What if",
        errors=errors,
        values=values,
        professions=[(p.value, label(p)) for p in Profession],
        runs=[run_dict(r) for r in recent_runs()[:RECENT_SHOWN]],
    ), (422 if errors else 200)


@bp.post("/finance/whatif/<int:run_id>/cancel")
@roles_required(*FINANCE_ROLES)
def whatif_cancel(run_id: int) -> Any:
    try:
        with boundary():
            whatif_tasks.cancel(run_id, Actor.for_user(current_user))
        flash("What-if cancelled (a running one stops within a few seconds)", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("web.whatif_run_page", run_id=run_id))


@bp.get("/finance/whatif/<int:run_id>")
@roles_required(*FINANCE_ROLES)
def whatif_run_page(run_id: int) -> Any:
    """One what-if run: a progress bar while it runs, then the result (or why it failed)."""
    run = get_run(run_id)
    return render_template(
        "finance/whatif_run.html",
        title=f"What if {run.id}",
        run=run,
        summary=run_dict(run),
        result=run.result,
        change=describe_request(run.request or {}),
    )


# The form's fields for each place in a WhatIfRequest, so that an error names what was typed in.
FORM_FIELDS = {
    "new_entitlements.0.amount": "ent_amount",
    "new_entitlements.0.people.min_band": "ent_min_band",
    "new_entitlements.0.people.profession": "ent_profession",
    "new_entitlements.0.per": "ent_per",
    "commitment_changes.0.amount": "role_amount",
    "commitment_changes.0.per": "role_per",
    "commitment_changes.0.roles.title_contains": "role_title",
}


def _whatif_request(v: dict[str, str]) -> WhatIfRequest:
    """The form as a WhatIfRequest. Numbers are passed to the schema as typed (as the API
    passes them), so that the one schema refuses what is not finite or not in range, in words
    naming the form's field."""
    from pydantic import ValidationError as PydanticError

    from ..core.validation import field_errors

    errors: list[FieldError] = []

    def num(name: str, default: float | None = None) -> float | None:
        raw = v.get(name, "").strip()
        if not raw:
            return default
        try:
            return float(raw)  # "nan", "inf" and "1e999" parse: the schema refuses them
        except ValueError:
            errors.append(FieldError(name, "Enter a number"))
            return None

    data: dict[str, Any] = {
        "start": v.get("start", ""),
        "weeks": num("weeks", 12),
        "time_limit": num("time_limit", 20),
        "rate_change_percent": num("rate_change_percent"),
    }
    if v.get("ent_profession") or v.get("ent_min_band"):
        people = {
            "profession": v.get("ent_profession") or None,
            "min_band": v.get("ent_min_band") or None,
        }
        data["new_entitlements"] = [
            {
                "people": people,
                "amount": num("ent_amount", 1),
                "per": v.get("ent_per") or "fortnight",
            }
        ]
    if v.get("role_title"):
        data["commitment_changes"] = [
            {
                "roles": {"title_contains": v["role_title"]},
                "amount": num("role_amount", 1),
                "per": v.get("role_per") or "week",
            }
        ]
    if errors:
        raise SelTimeError("Numbers needed", errors, 422)
    try:
        return WhatIfRequest.model_validate(data)
    except PydanticError as exc:
        errors = [replace(e, field=FORM_FIELDS.get(e.field, e.field)) for e in field_errors(exc)]
        raise SelTimeError("Some fields are not valid", errors, 422) from None
