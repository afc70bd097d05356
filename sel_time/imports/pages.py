"""The web page where a rota manager uploads a spreadsheet (``/manage/import``).

Registered on the web blueprint (``sel_time.web`` imports it with its own page modules); the
page is the transaction boundary: it commits a good import and rolls back a refused one.
"""
from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from flask_login import current_user

from ..core.audit import Actor
from ..core.errors import FieldError, SelTimeError
from ..core.transaction import boundary
from ..web import MANAGERS, bp, roles_required
from .service import import_file


@bp.route("/manage/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def import_page() -> Any:
    """The upload page: a CSV file or XLSX workbook imported, every row or none."""
    errors: list[FieldError] = []
    report = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = [FieldError("file", "Choose a CSV or XLSX file")]
            status = 400
        else:
            try:
                with boundary():  # all rows or none; a refused file leaves nothing behind
                    report = import_file(upload.read(), upload.filename,
                                         Actor.for_user(current_user),
                                         kind=request.form.get("kind") or None)
                flash(report.summary(), "success")
            except SelTimeError as exc:
                errors = exc.errors or [FieldError("file", exc.detail)]
                status = 422
    return render_template("manage/import.html", title="Import a spreadsheet", errors=errors,
                           report=report,
                           kinds=["people", "roles", "assignments", "leave", "teams"]), status
