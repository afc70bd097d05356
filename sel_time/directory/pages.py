"""Pages for rota managers: the directory (people, roles, assignments, teams, departments,
leave). The spreadsheet upload page is in :mod:`sel_time.imports.pages`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.audit import Actor
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary
from ..models import Department, LeadershipRole, Organisation, Person, Profession, Team
from ..web import MANAGERS, bp, roles_required
from ..web.forms import fields_for, form_defaults, form_values, pattern_form, payload_from_form
from . import records

PAGES = {  # url name → (entity, title, columns shown in the list)
    "people": ("people", "People", ["name", "email", "profession", "staff_group", "fte"]),
    "roles": (
        "roles",
        "Leadership roles",
        ["title", "code", "level", "commitment_amount", "commitment_unit", "commitment_per"],
    ),
    "assignments": (
        "assignments",
        "Role assignments",
        ["person_id", "role_id", "start_date", "end_date", "share"],
    ),
    "teams": (
        "teams",
        "Teams",
        ["name", "code", "kind", "sessions_amount", "sessions_per", "quorum", "lead_person_id"],
    ),
    "departments": (
        "departments",
        "Departments and services",
        ["name", "code", "organisation_id", "max_away"],
    ),
    "leave": (
        "absences",
        "Leave and fixed commitments",
        ["person_id", "kind", "start_date", "start_half", "end_date", "end_half"],
    ),
}


# -- the directory ---------------------------------------------------------------------------------


def _page(name: str) -> tuple[records.Entity, str, list[str]]:
    if name not in PAGES:
        abort(404)
    entity_name, title, columns = PAGES[name]
    return records.ENTITIES[entity_name], title, columns


def _names(entity: records.Entity, items: list[dict[str, Any]]) -> dict[str, dict[int, str]]:
    """Show referenced records by name, not id."""
    from ..web.forms import REFERENCES, reference_options

    refs: dict[str, dict[int, str]] = {}
    for col in {c for item in items for c in item if c in REFERENCES}:
        refs[col] = {int(i): n for i, n in reference_options(REFERENCES[col])}
    return refs


# What each list's search reads beyond the record's own columns (entity.search): words a user
# knows a record by, kept in another table or as a stored code.
SEARCH_HINTS = {
    "people": "Name, email, staff number, profession, organisation or department",
    "roles": "Title, code, budget code or host organisation",
    "teams": "Name, code or location",
}


def _like(column: Any, pattern: str) -> Any:
    return sa.func.lower(column).like(pattern, escape="\\")


def _word_matches(entity: records.Entity, word: str) -> Any:
    """Where one search word may match a record: its own searched columns, and for people
    (and roles, teams) the organisation, department, profession and other fields named in
    :data:`SEARCH_HINTS`."""
    from ..web.formats import label

    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    model = entity.model
    where = [_like(getattr(model, c), pattern) for c in entity.search]
    orgs = sa.select(Organisation.id).where(
        sa.or_(_like(Organisation.name, pattern), _like(Organisation.code, pattern)))
    if model is Person:
        departments = sa.select(Department.id).where(
            sa.or_(_like(Department.name, pattern), _like(Department.code, pattern)))
        professions = [p for p in Profession if word.lower() in label(p).lower()]
        where += [
            _like(Person.staff_number, pattern),
            _like(Person.specialty, pattern),
            Person.organisation_id.in_(orgs),
            Person.department_id.in_(departments),
        ]
        if professions:
            where.append(Person.profession.in_(professions))
    elif model is LeadershipRole:
        where += [_like(LeadershipRole.budget_code, pattern),
                  LeadershipRole.host_organisation_id.in_(orgs)]
    elif model is Team:
        where.append(_like(Team.location, pattern))
    elif entity.owner == "person_id":
        people = sa.select(Person.id).where(_like(Person.name, pattern))
        where.append(getattr(model, entity.owner).in_(people))
    return sa.or_(*where)


def _searched(query: sa.Select[Any], entity: records.Entity, q: str) -> sa.Select[Any]:
    """Records matching every word of ``q`` (each word anywhere the list searches)."""
    for word in q.split()[:10]:
        query = query.where(_word_matches(entity, word))
    return query


@bp.get("/manage/<page>")
@roles_required(*MANAGERS)
def directory(page: str) -> str:
    entity, title, columns = _page(page)
    q = request.args.get("q", "").strip()
    query: sa.Select[Any] = sa.select(entity.model)
    if q:
        query = _searched(query, entity, q)
    page_no = min(max(1, request.args.get("page", 1, type=int) or 1), 100000)  # offsets in range
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    items = [
        entity.to_dict(o)
        for o in db.session.scalars(
            query.order_by(*[getattr(entity.model, c) for c in entity.order_by])
            .limit(50)
            .offset((page_no - 1) * 50)
        )
    ]
    return render_template(
        "manage/directory.html",
        title=title,
        page=page,
        columns=columns,
        items=items,
        refs=_names(entity, items),
        q=q,
        page_no=page_no,
        total=total,
        searchable=bool(entity.search) or entity.owner == "person_id",
        search_hint=SEARCH_HINTS.get(page, "Name"),
    )


@bp.route("/manage/<page>/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def directory_new(page: str) -> Any:
    entity, title, _ = _page(page)
    fields = fields_for(entity.create_schema)
    values: dict[str, str] = {**form_defaults(fields), **request.args.to_dict()}
    errors: list[FieldError] = []
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with boundary():  # a refused change rolls back; the form shows why
                obj = records.create(
                    entity,
                    payload_from_form(fields, request.form, partial=False),
                    Actor.for_user(current_user),
                )
            flash(f"Saved {entity.label} {obj.id}", "success")
            return redirect(url_for("web.directory", page=page))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("body", exc.detail)]
    return render_template(
        "manage/form.html",
        **pattern_form(),
        title=f"Add {entity.label}",
        page=page,
        fields=fields,
        values=values,
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/manage/<page>/<int:ident>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def directory_edit(page: str, ident: int) -> Any:
    entity, title, _ = _page(page)
    obj = db.session.get(entity.model, ident)
    if obj is None:
        abort(404)
    fields = fields_for(entity.create_schema, skip=("password",))
    values = form_values(entity.to_dict(obj))
    errors: list[FieldError] = []
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            with boundary():  # a refused change rolls back; the form shows why
                records.update(
                    entity,
                    obj,
                    payload_from_form(fields, request.form, partial=True),
                    Actor.for_user(current_user),
                )
            flash(f"Saved {entity.label} {ident}", "success")
            return redirect(url_for("web.directory", page=page))
        except SelTimeError as exc:
            errors = exc.errors or [FieldError("body", exc.detail)]
    return render_template(
        "manage/form.html",
        **pattern_form(),
        title=f"Edit {entity.label}",
        page=page,
        fields=fields,
        values=values,
        errors=errors,
        ident=ident,
    ), (422 if errors else 200)


@bp.get("/manage/people", endpoint="people")
@roles_required(*MANAGERS)
def people() -> Response:
    return directory("people")  # type: ignore[return-value]


@bp.get("/manage/roles", endpoint="roles")
@roles_required(*MANAGERS)
def roles() -> Response:
    return directory("roles")  # type: ignore[return-value]


@bp.get("/manage/teams", endpoint="teams")
@roles_required(*MANAGERS)
def teams() -> Response:
    return directory("teams")  # type: ignore[return-value]
