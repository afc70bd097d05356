"""A subject-access download as an HTTP response (the account page and the API), audited."""

from __future__ import annotations

from flask import Response

from ..core.audit import Actor, record
from ..core.clock import today_london
from .subject import subject_data, to_json_bytes, to_xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(actor: Actor, fmt: str, *, person_id: int | None = None,
             user_id: int | None = None) -> Response:
    data = subject_data(person_id=person_id, user_id=user_id)
    record(actor, "subject_access_export", "person" if data.person_id else "user",
           data.person_id or (data.user_ids[0] if data.user_ids else None), None,
           {"format": fmt, "tables": {k: len(v) for k, v in data.tables.items()}})
    stem = f"sel-time-my-data-{today_london().isoformat()}"
    if fmt == "xlsx":
        body, mimetype = to_xlsx_bytes(data), XLSX
    else:
        body, mimetype = to_json_bytes(data), "application/json"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
