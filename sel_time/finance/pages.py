"""Pages for finance: planned vs delivered vs budget by month, organisation and profession,
with charts drawn on the server (they work without JavaScript), exports and what-if."""

from __future__ import annotations

import math
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
from ..plans.fairness import published_profession_shares
from ..web import bp, roles_required
from ..web.formats import label, money, month
from . import backfill
from . import tasks as whatif_tasks
from .schemas import WhatIfRequest
from .whatif import describe_request, get_run, recent_runs, request_whatif, run_dict

FINANCE_ROLES = (UserRole.FINANCE, UserRole.ADMIN, UserRole.ROTA_MANAGER)
RECENT_SHOWN = 20  # what-ifs listed under the form
SERIES = (
    ("planned", "Planned", "#005eb8"),
    ("delivered", "Delivered", "#007f3b"),
    ("budget", "Budget", "#ffb81c"),
)


GROUPS = (  # the dashboard's groupings: (key, heading, charted)
    ("year", "By financial year", False),
    ("quarter", "By quarter", False),
    ("month", "By month", True),
    ("organisation", "By organisation", True),
    ("department", "By department", False),
    ("profession", "By profession", True),
)
LETTER_PX = 6.6  # the width of one 12 px Arial character, near enough, for a chart's margins


def nice_step(top: float, steps: int = 4) -> float:
    """A round step for an axis up to ``top`` in about ``steps`` steps: 1, 2, 2.5 or 5 × 10ⁿ
    (£62,677 → steps of £20,000 up to £80,000)."""
    if top <= 0:
        return 1.0
    raw = top / steps
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)  # not reached


def bar_chart(rows: list[dict[str, Any]], key: str, title: str, width: int = 860) -> dict[str, Any]:
    """Geometry of a grouped bar chart (planned, delivered, budget per group) for an SVG: the
    axis at round steps, every group's name whole (the margin below grows to fit it)."""
    highest = max([r[s] or 0 for r in rows for s, _, _ in SERIES] + [0])
    step = nice_step(highest)
    top = step * max(1, math.ceil(highest / step))
    names = [_group_name(r[key], key) for r in rows]
    longest = max([len(n) for n in names] + [4])
    bottom = int(24 + longest * LETTER_PX * 0.72)  # names slanted at 45°
    left = max(70, int(longest * LETTER_PX * 0.72) - 20, int(len(f"£{top:,.0f}") * LETTER_PX) + 12)
    height = 220 + bottom
    plot_w, plot_h = width - left - 10, height - bottom - 20
    band = plot_w / max(1, len(rows))
    bar = max(2.0, band / 4)
    bars = []
    for i, r in enumerate(rows):
        for j, (s, series_name, colour) in enumerate(SERIES):
            v = r[s] or 0
            h = plot_h * v / top
            bars.append(
                {
                    "x": left + i * band + band / 8 + j * bar,
                    "y": 20 + plot_h - h,
                    "w": bar - 1,
                    "h": h,
                    "colour": colour,
                    "text": f"{names[i]} {series_name.lower()}: {money(v)}",
                }
            )
    count = round(top / step)
    ticks = [
        {"y": 20 + plot_h - plot_h * k / count, "label": f"£{step * k:,.0f}"}
        for k in range(count + 1)
    ]
    labels = [{"x": left + i * band + band / 2, "text": names[i]} for i in range(len(rows))]
    return {
        "title": title,
        "width": width,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "left": left,
        "base": 20 + plot_h,
        "series": SERIES,
    }


def _group_name(value: Any, key: str) -> str:
    """A chart group as a reader names it: a month in words, a profession by its label."""
    if key == "month":
        return month(value)
    return label(value) if key == "profession" else str(value)


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


def dashboard_data(first: date | None, last: date | None, org: str | None) -> dict[str, Any]:
    """Every grouping of the dashboard from one read of the period's cost lines, with the charts
    and the professions' shares. Kept per data version (DASHBOARDS): a visit after the first
    costs one stamp query until something is written, and the figures stay exact."""
    lines = backfill.cost_lines(first, last, org)
    data: dict[str, Any] = {}
    for key, _, _ in GROUPS:
        s = backfill.summarise([key], first, last, org, lines=lines)
        data[key] = {
            "rows": s.as_dicts(),
            "total": backfill.row_dict([], s.total),
            "first": s.first,
            "last": s.last,
        }
    charts = {k: bar_chart(data[k]["rows"], k, t) for k, t, charted in GROUPS if charted}
    return {
        "data": data,
        "charts": charts,
        "shares": published_profession_shares(first, last),
        "empty": not lines,
    }


DASHBOARDS = VersionedCache(size=32)


@bp.get("/finance")
@roles_required(*FINANCE_ROLES)
def finance_dashboard() -> Any:
    first, last, errors = _period()
    org = request.args.get("organisation") or None
    page: dict[str, Any] = {"data": {}, "charts": {}, "shares": None, "empty": False}
    if not errors:
        try:
            page = DASHBOARDS.get((first, last, org), lambda: dashboard_data(first, last, org))
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
