"""API routes of progress under ``/api/v1``: surveys and waves (results only once a wave has
closed, suppressed), ideas, training programmes and the board report. No route takes or
returns a response id, and none joins an answer to a person."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, jsonify, request

from ..api import bp
from ..api.inputs import json_body
from ..api.openapi import EXTRA_PATHS, json_response, problem_response
from ..core.audit import Actor
from ..core.auth import require_user
from ..core.clock import today_london
from ..core.errors import BadRequest, FieldError
from ..core.transaction import transactional
from ..core.validation import date_in_range
from ..models import UserRole
from . import board, exports, ideas, mailing, results, surveys, training
from .bank import BANK
from .suppression import DEFAULT_K, checked_k

PROGRAMME = (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.PROGRAMME_LEAD)
BOARD = PROGRAMME + (UserRole.FINANCE,)


def survey_k() -> int:
    return checked_k(int(current_app.config.get("SURVEY_MIN_GROUP", DEFAULT_K)))


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date_in_range(str(value))
    except ValueError as exc:
        raise BadRequest(f"{name} is not a date sel-time can use",
                         [FieldError(name, str(exc))]) from None


def _reminder(body: dict[str, Any], name: str, default: int) -> int | None:
    """A reminder's days from a JSON body: absent for the default, null for none; anything
    else that is not a whole number is refused (as -1) by the service, naming the field."""
    if name not in body:
        return default
    value = body[name]
    if value is None:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _period() -> tuple[date, date]:
    first = _date(request.args.get("from"), "from")
    last = _date(request.args.get("to"), "to")
    today = today_london()
    first = first or date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    last = last or today
    if last < first:
        raise BadRequest("The period ends before it starts", [FieldError("to", "before from")])
    return first, last


def _download(body: bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/survey-bank")
@transactional
def survey_bank() -> Response:
    require_user(PROGRAMME)
    return jsonify([{"code": c, "theme": t, "kind": k.value, "text": x,
                     "options": list(o) if o else None} for c, t, k, x, o in BANK])


@bp.get("/surveys")
@transactional
def list_surveys() -> Response:
    require_user(PROGRAMME)
    from sqlalchemy import select

    from ..core.extensions import db
    from .models import Survey

    return jsonify([surveys.survey_dict(s)
                    for s in db.session.scalars(select(Survey).order_by(Survey.id))])


@bp.post("/surveys")
@transactional
def create_survey() -> tuple[Response, int]:
    user = require_user(PROGRAMME)
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object", [FieldError("body", "not an object")])
    questions = body.get("questions")
    if not isinstance(questions, list):
        raise BadRequest("questions must be a list of bank codes",
                         [FieldError("questions", "a list of bank codes")])
    days = body.get("days_open", 14)
    survey = surveys.create_survey(
        str(body.get("title") or ""), str(body.get("cadence") or ""),
        [str(q) for q in questions], Actor.for_user(user),
        days_open=days if isinstance(days, int) else -1,
        first_opens_on=_date(body.get("first_opens_on"), "first_opens_on"),
        remind_after_days=_reminder(body, "remind_after_days", surveys.REMIND_AFTER_DAYS),
        remind_before_days=_reminder(body, "remind_before_days", surveys.REMIND_BEFORE_DAYS))
    return jsonify(surveys.survey_dict(survey)), 201


@bp.get("/surveys/<int:survey_id>")
@transactional
def show_survey(survey_id: int) -> Response:
    require_user(PROGRAMME)
    return jsonify(surveys.survey_dict(surveys.get_survey(survey_id)))


@bp.post("/surveys/<int:survey_id>/waves")
@transactional
def open_wave(survey_id: int) -> tuple[Response, int]:
    user = require_user(PROGRAMME)
    survey = surveys.get_survey(survey_id)
    wave, messages = surveys.open_wave(survey, today_london(), Actor.for_user(user))
    sent = mailing.send(messages, "survey_invitation")
    return jsonify({**surveys.wave_dict(wave), "invitations_queued": sent}), 201


@bp.post("/waves/<int:wave_id>/close")
@transactional
def close_wave(wave_id: int) -> Response:
    user = require_user(PROGRAMME)
    wave = surveys.close_wave(surveys.get_wave(wave_id), Actor.for_user(user))
    return jsonify(surveys.wave_dict(wave))


@bp.post("/waves/<int:wave_id>/reminders")
@transactional
def send_reminders(wave_id: int) -> Response:
    require_user(PROGRAMME)
    messages = surveys.reminders(surveys.get_wave(wave_id))
    return jsonify({"reminders": len(messages),
                    "queued": mailing.send(messages, "survey_reminder")})


@bp.get("/waves/<int:wave_id>/results")
@transactional
def wave_results(wave_id: int) -> Response:
    require_user(PROGRAMME)
    return jsonify(results.wave_results(surveys.get_wave(wave_id), survey_k()))


@bp.get("/waves/<int:wave_id>/results/export")
@transactional
def export_results(wave_id: int) -> Response:
    require_user(PROGRAMME)
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise BadRequest("Unknown format", [FieldError("format", "csv or xlsx")])
    r = results.wave_results(surveys.get_wave(wave_id), survey_k())
    stem = f"sel-time-survey-wave-{r['wave']}"
    if fmt == "csv":
        return _download(exports.results_csv(r), "text/csv", stem + ".csv")
    return _download(exports.results_xlsx(r), XLSX, stem + ".xlsx")


@bp.get("/surveys/<int:survey_id>/trend")
@transactional
def survey_trend(survey_id: int) -> Response:
    require_user(PROGRAMME)
    return jsonify(results.trend(surveys.get_survey(survey_id).waves, survey_k()))


@bp.get("/ideas")
@transactional
def list_ideas() -> Response:
    user = require_user()
    return jsonify([ideas.idea_dict(i, user) for i in ideas.list_ideas()])


@bp.post("/ideas")
@transactional
def submit_idea() -> tuple[Response, int]:
    user = require_user()
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object", [FieldError("body", "not an object")])
    idea = ideas.submit_idea(user, str(body.get("title") or ""), str(body.get("body") or ""),
                             body.get("anonymous") is True)
    return jsonify(ideas.idea_dict(idea, user)), 201


@bp.post("/ideas/<int:idea_id>/support")
@transactional
def support_idea(idea_id: int) -> Response:
    user = require_user()
    return jsonify(ideas.idea_dict(ideas.support_idea(user, ideas.get_idea(idea_id)), user))


@bp.patch("/ideas/<int:idea_id>")
@transactional
def moderate_idea(idea_id: int) -> Response:
    user = require_user(PROGRAMME)
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object", [FieldError("body", "not an object")])
    idea = ideas.moderate_idea(ideas.get_idea(idea_id), str(body.get("status") or ""),
                               body.get("note") if isinstance(body.get("note"), str) else None,
                               Actor.for_user(user))
    return jsonify(ideas.idea_dict(idea, user))


@bp.get("/programmes")
@transactional
def list_programmes() -> Response:
    require_user(PROGRAMME)
    from sqlalchemy import select

    from ..core.extensions import db
    from .models import Programme

    return jsonify([training.programme_report(p)
                    for p in db.session.scalars(select(Programme).order_by(Programme.name))])


def _programme_fields(body: Any) -> tuple[str, str, int, list[str], int | None]:
    """A programme's fields from a JSON body (anything of the wrong type is refused, in
    words naming the field, by the service)."""
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object", [FieldError("body", "not an object")])
    modules = body.get("modules")
    needed = body.get("completion_modules")
    team = body.get("team_id")
    return (str(body.get("name") or ""), str(body.get("kind") or ""),
            team if isinstance(team, int) and not isinstance(team, bool)
            and 0 < team < 2**31 else -1,  # an id the database can look up
            [str(m) for m in modules] if isinstance(modules, list) else [],
            needed if needed is None or (isinstance(needed, int)
                                         and not isinstance(needed, bool)) else -1)


@bp.post("/programmes")
@transactional
def create_programme() -> tuple[Response, int]:
    user = require_user(PROGRAMME)
    p = training.create_programme(*_programme_fields(json_body()), Actor.for_user(user))
    return jsonify(training.programme_report(p)), 201


@bp.put("/programmes/<int:programme_id>")
@transactional
def update_programme(programme_id: int) -> Response:
    user = require_user(PROGRAMME)
    p = training.update_programme(training.get_programme(programme_id),
                                  *_programme_fields(json_body()), Actor.for_user(user))
    return jsonify(training.programme_report(p))


@bp.get("/programmes/<int:programme_id>")
@transactional
def show_programme(programme_id: int) -> Response:
    require_user(PROGRAMME)
    return jsonify(training.programme_report(training.get_programme(programme_id)))


@bp.get("/board-report")
@transactional
def board_report() -> Response:
    require_user(BOARD)
    first, last = _period()
    r = board.board_report(first, last, survey_k())
    fmt = request.args.get("format", "json")
    stem = f"sel-time-board-report-{first}-{last}"
    if fmt == "json":
        return jsonify(r)
    if fmt == "xlsx":
        return _download(board.board_xlsx(r), XLSX, stem + ".xlsx")
    if fmt == "pdf":
        return _download(board.board_pdf(r), "application/pdf", stem + ".pdf")
    raise BadRequest("Unknown format", [FieldError("format", "json, xlsx or pdf")])


FILES = {"csv": "text/csv", "xlsx": XLSX, "pdf": "application/pdf"}


def _doc(tag: str, summary: str, method: str = "get", params: list[str] | None = None,
         body: bool = False, files: tuple[str, ...] = (), period: bool = False,
         listing: bool = False) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
        for p in params or []]
    ok = json_response({"type": "array" if listing else "object"})
    if files:
        formats = (["json"] if not files or "pdf" in files else []) + list(files)
        parameters.append({"name": "format", "in": "query",
                           "schema": {"type": "string", "enum": formats}})
        for f in files:
            ok["content"][FILES[f]] = {"schema": {"type": "string", "format": "binary"}}
        if "pdf" not in files:
            del ok["content"]["application/json"]
    if period:
        parameters += [{"name": n, "in": "query", "schema": {"type": "string", "format": "date"}}
                       for n in ("from", "to")]
    responses: dict[str, Any] = {"201" if method == "post" and body else "200": ok,
                                 "400": problem_response("Bad request"),
                                 "401": problem_response("Not signed in"),
                                 "403": problem_response("Role not allowed"),
                                 "404": problem_response("Not found"),
                                 "409": problem_response("Refused in the wave's state"),
                                 "422": problem_response("Not valid: each field in words")}
    if method == "post" and not body:
        responses["201"] = ok  # opening a wave creates one
    op: dict[str, Any] = {"tags": [tag], "summary": summary, "parameters": parameters,
                          "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"type": "object"}}}}
    return {method: op}


for _path, _ops in {
    "/api/v1/survey-bank": [_doc("progress", "The question bank", listing=True)],
    "/api/v1/surveys": [_doc("progress", "Surveys", listing=True),
                        _doc("progress", "Build a survey from the bank", "post", body=True)],
    "/api/v1/surveys/{survey_id}": [
        _doc("progress", "A survey and its waves", params=["survey_id"])],
    "/api/v1/surveys/{survey_id}/waves": [
        _doc("progress", "Open a wave and invite by e-mail", "post", ["survey_id"])],
    "/api/v1/surveys/{survey_id}/trend": [
        _doc("progress", "Headline and means across closed waves", params=["survey_id"],
             listing=True)],
    "/api/v1/waves/{wave_id}/close": [_doc("progress", "Close a wave", "post", ["wave_id"])],
    "/api/v1/waves/{wave_id}/reminders": [
        _doc("progress", "Remind who has not answered", "post", ["wave_id"])],
    "/api/v1/waves/{wave_id}/results": [
        _doc("progress", "Suppressed results of a closed wave", params=["wave_id"])],
    "/api/v1/waves/{wave_id}/results/export": [
        _doc("progress", "Suppressed results as CSV or XLSX", params=["wave_id"],
             files=("csv", "xlsx"))],
    "/api/v1/ideas": [_doc("progress", "Ideas", listing=True),
                      _doc("progress", "Submit an idea (named or anonymous)", "post", body=True)],
    "/api/v1/ideas/{idea_id}": [_doc("progress", "Moderate an idea", "patch", ["idea_id"], True)],
    "/api/v1/ideas/{idea_id}/support": [_doc("progress", "Support an idea", "post", ["idea_id"])],
    "/api/v1/programmes": [_doc("progress", "Training programmes", listing=True),
                           _doc("progress", "Create a programme", "post", body=True)],
    "/api/v1/programmes/{programme_id}": [
        _doc("progress", "A programme: modules, attendance, completion", params=["programme_id"]),
        _doc("progress", "Change a programme (every field, as when creating)", "put",
             ["programme_id"], True)],
    "/api/v1/board-report": [_doc("progress", "The board report (JSON, XLSX or PDF)",
                                  files=("xlsx", "pdf"), period=True)],
}.items():
    EXTRA_PATHS[_path] = {m: o for op in _ops for m, o in op.items()}
