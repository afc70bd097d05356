"""The board report for a chosen period: leaders by profession and organisation; the share
with protected time agreed; planned against delivered sessions with the reasons time was lost;
team sessions that met quorum; training uptake and completion; survey headline scores with
trend and response rate; backfill spend against budget. Its figures are the finance and
delivery summaries' own (it calls them), so they agree to the penny and the session."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.clock import now_utc
from ..core.extensions import db
from ..delivery.recording import london_midnight, planned_vs_delivered
from ..finance import backfill as finance
from ..models import (
    Attendance,
    Outcome,
    Person,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
)
from .models import Programme, Survey
from .results import trend
from .training import programme_report

REASONS = {
    Outcome.LOST_CLINICAL: "Clinical or care pressure",
    Outcome.LOST_SICKNESS: "Sickness",
    Outcome.LOST_OTHER: "Other",
}


def _in_period(first: date, last: date) -> list[Any]:
    return [ProtectedSession.status == RosterStatus.CONFIRMED,
            ProtectedSession.start_at >= london_midnight(first),
            ProtectedSession.start_at < london_midnight(last + timedelta(days=1))]


def board_report(first: date, last: date, k: int) -> dict[str, Any]:
    leaders = db.session.scalars(
        sa.select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(Person.active.is_(True), RoleAssignment.start_date <= last,
               sa.or_(RoleAssignment.end_date.is_(None), RoleAssignment.end_date >= first))
        .distinct().order_by(Person.id)
    ).all()
    rostered = set(db.session.scalars(
        sa.select(Attendance.person_id).join(ProtectedSession).where(*_in_period(first, last))
    ))
    with_time = sum(1 for p in leaders if p.id in rostered)
    delivery = planned_vs_delivered("month", first, last)
    sessions = {key: sum(r[key] for r in delivery)
                for key in ("sessions_planned", "sessions_past", "sessions_recorded",
                            "sessions_lost")}
    hours = {key: round(sum(r[key] for r in delivery), 2)
             for key in ("hours_planned", "hours_past", "hours_delivered")}
    outcomes = Counter(db.session.scalars(
        sa.select(Attendance.outcome).join(ProtectedSession)
        .where(*_in_period(first, last), Attendance.outcome.is_not(None))))
    now = now_utc()
    quorum_total = quorum_met = 0
    for s in db.session.scalars(
        sa.select(ProtectedSession).where(*_in_period(first, last),
                                          ProtectedSession.team_id.is_not(None),
                                          ProtectedSession.start_at <= now)
    ):
        quorum_total += 1
        present = sum(1 for a in s.attendances if a.outcome in (Outcome.TAKEN, Outcome.PARTIAL))
        if s.team is not None and present >= s.team.quorum:
            quorum_met += 1
    money = finance.row_dict([], finance.summarise(["month"], first, last).total)
    programmes = [programme_report(p, first, last)
                  for p in db.session.scalars(sa.select(Programme).order_by(Programme.name))]
    surveys = []
    for survey in db.session.scalars(sa.select(Survey).order_by(Survey.title)):
        waves = [w for w in survey.waves if w.opens_on <= last]
        rows = trend(waves, k)
        if rows:
            surveys.append({"title": survey.title, "trend": rows})
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "leaders": len(leaders),
        "leaders_by_profession": dict(sorted(Counter(p.profession.value for p in leaders).items())),
        "leaders_by_organisation": dict(sorted(
            Counter(p.organisation.name for p in leaders).items())),
        "leaders_with_protected_time": with_time,
        "share_with_protected_time": round(with_time / len(leaders), 4) if leaders else None,
        "sessions": sessions,
        "hours": hours,
        "lost_reasons": {REASONS[o]: outcomes.get(o, 0) for o in REASONS},
        "team_sessions_held": quorum_total,
        "team_sessions_quorate": quorum_met,
        "training": [
            {"name": p["name"], "enrolled": p["enrolled"], "aspiring": p["aspiring"],
             "completed": p["completed"], "attendance_rate": p["attendance_rate"],
             "modules_held": p["modules_held"], "modules": len(p["modules"]),
             "profession_mix": p["profession_mix"]}
            for p in programmes
        ],
        "surveys": surveys,
        "backfill": {"planned": money["planned"], "delivered": money["delivered"],
                     "budget": money["budget"], "variance_delivered": money["variance_delivered"]},
    }


def board_rows(r: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The report as (section, measure, value) rows: what the XLSX and the PDF print."""
    rows: list[tuple[str, str, Any]] = [
        ("Period", "From", r["from"]), ("Period", "To", r["to"]),
        ("Leaders", "Leaders holding a role", r["leaders"]),
    ]
    rows += [("Leaders by profession", k, v) for k, v in r["leaders_by_profession"].items()]
    rows += [("Leaders by organisation", k, v) for k, v in r["leaders_by_organisation"].items()]
    rows += [
        ("Protected time", "Leaders with protected time rostered",
         r["leaders_with_protected_time"]),
        ("Protected time", "Share with protected time", r["share_with_protected_time"]),
        ("Sessions", "Planned", r["sessions"]["sessions_planned"]),
        ("Sessions", "Due so far", r["sessions"]["sessions_past"]),
        ("Sessions", "Recorded", r["sessions"]["sessions_recorded"]),
        ("Sessions", "Lost", r["sessions"]["sessions_lost"]),
        ("Hours", "Planned", r["hours"]["hours_planned"]),
        ("Hours", "Delivered", r["hours"]["hours_delivered"]),
    ]
    rows += [("Reasons time was lost", k, v) for k, v in r["lost_reasons"].items()]
    rows += [("Team sessions", "Held", r["team_sessions_held"]),
             ("Team sessions", "Met quorum", r["team_sessions_quorate"])]
    for p in r["training"]:
        rows += [(f"Training: {p['name']}", "Enrolled", p["enrolled"]),
                 (f"Training: {p['name']}", "Aspiring leaders (no role yet)", p["aspiring"]),
                 (f"Training: {p['name']}", "Completed", p["completed"]),
                 (f"Training: {p['name']}", "Attendance rate", p["attendance_rate"])]
    for s in r["surveys"]:
        for t in s["trend"]:
            rows += [(f"Survey: {s['title']}", f"Wave {t['wave']} headline (1–5)", t["headline"]),
                     (f"Survey: {s['title']}", f"Wave {t['wave']} response rate",
                      t["response_rate"])]
    b = r["backfill"]
    rows += [("Backfill (£)", "Planned", b["planned"]),
             ("Backfill (£)", "Delivered", b["delivered"]),
             ("Backfill (£)", "Budget", b["budget"]),
             ("Backfill (£)", "Budget less delivered", b["variance_delivered"])]
    return rows


def board_xlsx(r: dict[str, Any]) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Board report"
    ws.append(["Section", "Measure", "Value"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for section, measure, value in board_rows(r):
        ws.append([section, measure, "" if value is None else value])
        for cell in ws[ws.max_row][:2]:
            cell.data_type = "s"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 16
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def board_pdf(r: dict[str, Any]) -> bytes:
    """A printable A4 PDF of the same rows (fpdf2's core Helvetica: Latin-1 text only)."""
    from fpdf import FPDF

    def latin(text: Any) -> str:
        value = "–" if text is None else str(text)
        return value.replace("–", "-").replace("£", "GBP ").encode("latin-1", "replace").decode(
            "latin-1")

    pdf = FPDF(format="A4")
    pdf.set_title(f"sel-time board report {r['from']} to {r['to']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, latin(f"Protected leadership time: board report {r['from']} to {r['to']}"),
             new_x="LMARGIN", new_y="NEXT")
    section = None
    for sec, measure, value in board_rows(r):
        if sec != section:
            section = sec
            pdf.set_font("Helvetica", "B", 12)
            pdf.cell(0, 9, latin(sec), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(120, 6, latin(measure))
        pdf.cell(0, 6, latin(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
