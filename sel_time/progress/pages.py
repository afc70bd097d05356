"""Pages of progress: answering a survey from its personal link (no sign-in), the programme
lead's surveys and results (withheld cells marked in words), ideas, a programme, and the
board report. Each page is its own transaction."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..core.audit import Actor
from ..core.clock import today_london
from ..core.errors import FieldError, SelTimeError
from ..core.extensions import db
from ..core.transaction import boundary, transactional
from ..models import Team, TeamKind, UserRole
from ..web import MANAGERS, roles_required
from . import board, ideas, mailing, results, surveys, training
from .api import BOARD, PROGRAMME, survey_k
from .bank import BANK, BREAKDOWNS
from .charts import distribution_bars, trend_chart
from .models import Cadence, Programme, Survey, WaveStatus

bp = Blueprint("progress", __name__, template_folder="templates")
EVERYONE = tuple(UserRole)


def _errors(exc: SelTimeError, default: str) -> list[FieldError]:
    return exc.errors or [FieldError(default, exc.detail)]


# -- answering -------------------------------------------------------------------------------

@bp.route("/survey/<token>", methods=["GET", "POST"])
@transactional
def answer(token: str) -> ResponseReturnValue:
    """The personal link of an invitation: the survey's questions, or a thank-you."""
    try:
        inv = surveys.invitation_for(token)
    except SelTimeError:
        return render_template("progress/link_invalid.html", title="Survey link not valid"), 404
    wave = inv.wave
    closed = wave.status != WaveStatus.OPEN or today_london() > wave.closes_on
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    if request.method == "POST" and not closed and not inv.responded:
        values = {k: (request.form.getlist(k) if len(request.form.getlist(k)) > 1
                      else request.form.get(k)) for k in request.form}
        try:
            with boundary():
                surveys.submit(token, values)
            return render_template("progress/thanks.html", title="Thank you"), 200
        except SelTimeError as exc:
            errors = _errors(exc, "survey")
    return render_template(
        "progress/answer.html", title=wave.survey.title, wave=wave, survey=wave.survey,
        closed=closed, responded=inv.responded, errors=errors, values=values, k=survey_k(),
    ), (400 if errors else 200)


# -- the programme lead's surveys ------------------------------------------------------------

@bp.get("/progress")
@roles_required(*PROGRAMME)
def dashboard() -> ResponseReturnValue:
    all_surveys = db.session.scalars(sa.select(Survey).order_by(Survey.id)).all()
    return render_template("progress/dashboard.html", title="Tracking progress",
                           surveys=[surveys.survey_dict(s) for s in all_surveys],
                           bank=BANK, cadences=[c.value for c in Cadence], errors=[],
                           values={})


@bp.post("/progress/surveys")
@roles_required(*PROGRAMME)
def create_survey() -> ResponseReturnValue:
    form = request.form
    first = form.get("first_opens_on", "").strip()
    errors: list[FieldError] = []
    try:
        first_day = date.fromisoformat(first) if first else None
    except ValueError:
        first_day = None
        errors.append(FieldError("first_opens_on", "Enter the first opening as a date"))
    days = form.get("days_open", "14").strip()
    remind = {name: _days_or_none(form.get(name, "")) for name in
              ("remind_after_days", "remind_before_days")}
    if not errors:
        try:
            with boundary():
                survey = surveys.create_survey(
                    form.get("title", ""), form.get("cadence", ""), form.getlist("questions"),
                    Actor.for_user(current_user), days_open=int(days) if days.isdigit() else -1,
                    first_opens_on=first_day, **remind)
            flash(f"Survey '{survey.title}' created", "success")
            return redirect(url_for("progress.dashboard"))
        except SelTimeError as exc:
            errors = _errors(exc, "title")
    all_surveys = db.session.scalars(sa.select(Survey).order_by(Survey.id)).all()
    return render_template("progress/dashboard.html", title="Tracking progress",
                           surveys=[surveys.survey_dict(s) for s in all_surveys], bank=BANK,
                           cadences=[c.value for c in Cadence], errors=errors,
                           values=form), 400


def _days_or_none(raw: str) -> int | None:
    """A form's number of days: empty for none; not a whole number as -1 (refused, in
    words, by the service)."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else -1


def _act(work: Any, done: str) -> ResponseReturnValue:
    try:
        with boundary():
            work()
        flash(done, "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("progress.dashboard"))


@bp.post("/progress/surveys/<int:survey_id>/waves")
@roles_required(*PROGRAMME)
def open_wave(survey_id: int) -> ResponseReturnValue:
    def work() -> None:
        _, messages = surveys.open_wave(surveys.get_survey(survey_id), today_london(),
                                        Actor.for_user(current_user))
        mailing.send(messages, "survey_invitation")

    return _act(work, "Wave opened: invitations sent")


@bp.post("/progress/waves/<int:wave_id>/close")
@roles_required(*PROGRAMME)
def close_wave(wave_id: int) -> ResponseReturnValue:
    return _act(lambda: surveys.close_wave(surveys.get_wave(wave_id),
                                           Actor.for_user(current_user)), "Wave closed")


@bp.post("/progress/waves/<int:wave_id>/reminders")
@roles_required(*PROGRAMME)
def remind(wave_id: int) -> ResponseReturnValue:
    return _act(lambda: mailing.send(surveys.reminders(surveys.get_wave(wave_id)),
                                     "survey_reminder"), "Reminders sent")


@bp.get("/progress/waves/<int:wave_id>")
@roles_required(*PROGRAMME)
def wave_results(wave_id: int) -> ResponseReturnValue:
    wave = surveys.get_wave(wave_id)
    k = survey_k()
    if wave.status == WaveStatus.OPEN:
        return render_template("progress/results.html", title="Results", wave=wave, r=None,
                               k=k, breakdowns=BREAKDOWNS)
    r = results.wave_results(wave, k)
    rows = results.trend(wave.survey.waves, k)
    return render_template(
        "progress/results.html", title=f"Results: {wave.survey.title}, wave {wave.number}",
        wave=wave, r=r, k=k, breakdowns=BREAKDOWNS, trend=rows,
        trend_svg=trend_chart(rows), bars={q["id"]: distribution_bars(q)
                                           for q in r["questions"] if q.get("overall")},
        withheld=results.withheld_text(k),
        label_for=lambda combined: results.withheld_label(k, combined),
    )


# -- ideas -----------------------------------------------------------------------------------

@bp.route("/ideas", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def ideas_page() -> ResponseReturnValue:
    errors: list[FieldError] = []
    status = 200
    if request.method == "POST":
        try:
            with boundary():
                ideas.submit_idea(current_user, request.form.get("title", ""),
                                  request.form.get("body", ""),
                                  request.form.get("anonymous") == "yes")
            flash("Thank you: your idea is on the list", "success")
            return redirect(url_for("progress.ideas_page"))
        except SelTimeError as exc:
            errors, status = _errors(exc, "title"), 400
    return render_template(
        "progress/ideas.html", title="Ideas", errors=errors, values=request.form,
        ideas=[ideas.idea_dict(i, current_user) for i in ideas.list_ideas()],
        moderator=current_user.role in PROGRAMME, statuses=ideas.STATUS_WORDS,
    ), status


@bp.post("/ideas/<int:idea_id>/support")
@roles_required(*EVERYONE)
def support(idea_id: int) -> ResponseReturnValue:
    try:
        with boundary():
            ideas.support_idea(current_user, ideas.get_idea(idea_id))
        flash("You support this idea", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("progress.ideas_page"))


@bp.post("/ideas/<int:idea_id>/moderate")
@roles_required(*PROGRAMME)
def moderate(idea_id: int) -> ResponseReturnValue:
    try:
        with boundary():
            ideas.moderate_idea(ideas.get_idea(idea_id), request.form.get("status", ""),
                                request.form.get("note"), Actor.for_user(current_user))
        flash("Decision recorded", "success")
    except SelTimeError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("progress.ideas_page"))


# -- training and the board ------------------------------------------------------------------

@bp.get("/progress/programmes")
@roles_required(*PROGRAMME)
def programmes() -> ResponseReturnValue:
    reports = [training.programme_report(p)
               for p in db.session.scalars(sa.select(Programme).order_by(Programme.name))]
    cohorts = db.session.scalars(sa.select(Team).where(Team.kind == TeamKind.TRAINING_COHORT)
                                 .order_by(Team.name)).all()
    return render_template("progress/programmes.html", title="Training programmes",
                           programmes=reports, cohorts=cohorts)


def _programme_form(form: Any) -> tuple[str, str, int, list[str], int | None]:
    """A programme's fields from its form: the modules one a line; a number that is not a
    whole number as -1 (refused, in words naming the field, by the service)."""
    team = form.get("team_id", "").strip()
    needed = form.get("completion_modules", "").strip()
    return (form.get("name", ""), form.get("kind", ""),
            int(team) if team.isdigit() and len(team) < 10 else -1,
            form.get("modules", "").splitlines(),
            None if not needed else int(needed) if needed.isdigit() and len(needed) < 10 else -1)


def _programme_page(programme: Programme | None, values: Any, errors: list[FieldError],
                    status: int) -> ResponseReturnValue:
    cohorts = db.session.scalars(sa.select(Team).where(Team.kind == TeamKind.TRAINING_COHORT)
                                 .order_by(Team.name)).all()
    title = "Create a training programme" if programme is None else f"Change {programme.name}"
    return render_template("progress/programme_form.html", title=title, programme=programme,
                           values=values, errors=errors,
                           cohorts=[(str(c.id), c.name) for c in cohorts],
                           kinds=list(training.KIND_WORDS.items()),
                           manager=current_user.role in MANAGERS), status


@bp.route("/progress/programmes/new", methods=["GET", "POST"])
@roles_required(*PROGRAMME)
def new_programme() -> ResponseReturnValue:
    if request.method == "GET":
        return _programme_page(None, {"kind": "system_course"}, [], 200)
    try:
        with boundary():
            p = training.create_programme(*_programme_form(request.form),
                                          Actor.for_user(current_user))
        flash(f"Programme '{p.name}' created", "success")
        return redirect(url_for("progress.programmes") + f"#programme-{p.id}")
    except SelTimeError as exc:
        return _programme_page(None, request.form, _errors(exc, "name"), 400)


@bp.route("/progress/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required(*PROGRAMME)
def edit_programme(programme_id: int) -> ResponseReturnValue:
    p = training.get_programme(programme_id)
    if request.method == "GET":
        values = {"name": p.name, "kind": p.kind.value, "team_id": str(p.cohort_team_id),
                  "modules": "\n".join(m.title for m in p.modules),
                  "completion_modules": str(p.completion_modules or "")}
        return _programme_page(p, values, [], 200)
    try:
        with boundary():
            training.update_programme(p, *_programme_form(request.form),
                                      Actor.for_user(current_user))
        flash(f"Programme '{p.name}' changed", "success")
        return redirect(url_for("progress.programmes") + f"#programme-{p.id}")
    except SelTimeError as exc:
        return _programme_page(db.session.get(Programme, programme_id), request.form,
                               _errors(exc, "name"), 400)


@bp.get("/progress/board")
@roles_required(*BOARD)
def board_page() -> ResponseReturnValue:
    errors: list[FieldError] = []
    today = today_london()
    period = {}
    for name, default in (("from", date(today.year if today.month >= 4 else today.year - 1,
                                        4, 1)), ("to", today)):
        raw = request.args.get(name, "").strip()
        try:
            period[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            errors.append(FieldError(name, f"Enter the '{name}' date as a date"))
            period[name] = default
    if not errors and period["to"] < period["from"]:
        errors.append(FieldError("to", "The period ends before it starts"))
    r = None if errors else board.board_report(period["from"], period["to"], survey_k())
    return render_template("progress/board.html", title="Board report", r=r, errors=errors,
                           first=period["from"].isoformat(), last=period["to"].isoformat(),
                           rows=board.board_rows(r) if r else []), (400 if errors else 200)
