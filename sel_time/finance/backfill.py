"""Backfill cost for finance: planned (published), delivered (recorded as taken, part-taken
pro rata) and budget (roles' and teams' annual budgets pro-rated to the period), with
variance, hours and cost per delivered hour, grouped any way finance needs; exports; and
what-if projections planned in a sandbox.

All money is summed in integer pence and shown in GBP, so every figure reconciles to the
penny: the rows of any summary add up to the sum of its sessions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.clock import LONDON, UTC, today_london
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import (
    Attendance,
    Department,
    LeadershipRole,
    Organisation,
    Person,
    ProtectedSession,
    RoleAssignment,
    RosterStatus,
    Team,
)

GROUPINGS = {
    "organisation": "Organisation",
    "department": "Department",
    "profession": "Profession",
    "staff_group": "Staff group",
    "role": "Role",
    "team": "Team",
    "budget_code": "Budget code",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Financial year",
}
ALIASES = {"org": "organisation", "dept": "department", "fy": "year", "financial_year": "year"}
INDIVIDUAL = "(individual sessions)"
TEAM_BUDGETS = "(team budgets)"  # teams span organisations: their budgets stand on their own
UNASSIGNED = "(none)"


def parse_groupings(text: str | Sequence[str]) -> list[str]:
    parts = [
        p.strip().lower() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()
    ]
    out = []
    for p in parts:
        key = ALIASES.get(p, p)
        if key not in GROUPINGS:
            raise ValidationError(
                "Unknown grouping",
                [FieldError("by", f'"{p}" is not one of ' + ", ".join(GROUPINGS))],
            )
        if key not in out:
            out.append(key)
    if not out:
        raise ValidationError("Say how to group", [FieldError("by", "at least one grouping")])
    return out


def financial_year(day: date) -> str:
    """NHS financial year, April to March: 2026-05-01 → "2026/27"."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def fy_quarter(day: date) -> str:
    q = ((day.month - 4) % 12) // 3 + 1
    return f"{financial_year(day)} Q{q}"


def _round_half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@dataclass(frozen=True)
class CostLine:
    """One person's part in one published session: the unit every summary adds up."""

    attendance_id: int
    day: date
    hours: Fraction
    planned_pence: int
    delivered_pence: int
    hours_delivered: Fraction
    keys: dict[str, str]


def cost_lines(
    first: date | None = None, last: date | None = None, organisation: str | None = None
) -> list[CostLine]:
    """Every published attendance in the period (and organisation, by code), with its keys."""
    q = (
        sa.select(Attendance)
        .join(ProtectedSession, Attendance.session_id == ProtectedSession.id)
        .where(ProtectedSession.status == RosterStatus.CONFIRMED)
        .options(
            selectinload(Attendance.person).selectinload(Person.organisation),
            selectinload(Attendance.person)
            .selectinload(Person.department)
            .selectinload(Department.organisation),
            selectinload(Attendance.session)
            .selectinload(ProtectedSession.assignment)
            .selectinload(RoleAssignment.role),
            selectinload(Attendance.session)
            .selectinload(ProtectedSession.team)
            .selectinload(Team.funding_role),
        )
        .order_by(Attendance.id)
    )
    if organisation:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == organisation))
        if org is None:
            raise ValidationError(
                "Unknown organisation",
                [FieldError("organisation", f"no organisation {organisation}")],
            )
        q = q.join(Person, Attendance.person_id == Person.id).where(
            Person.organisation_id == org.id
        )
    # Narrow in the database with a day's slack either side (the day is London's, below).
    if first:
        q = q.where(
            ProtectedSession.start_at >= datetime.combine(first - timedelta(days=1), time(), UTC)
        )
    if last:
        q = q.where(
            ProtectedSession.start_at < datetime.combine(last + timedelta(days=2), time(), UTC)
        )
    out = []
    for att in db.session.scalars(q):
        s = att.session
        day = s.start_at.astimezone(LONDON).date()
        if (first and day < first) or (last and day > last):
            continue
        hours = Fraction(int((s.end_at - s.start_at).total_seconds()), 3600)
        fraction = (
            Fraction(att.fraction_taken).limit_denominator(10000)
            if att.fraction_taken is not None
            else Fraction(0)
        )
        person = att.person
        role = s.assignment.role if s.assignment else (s.team.funding_role if s.team else None)
        budget_code = (
            role.budget_code
            if s.assignment and role
            else (s.team.budget_code or (role.budget_code if role else None))
            if s.team
            else None
        )
        keys = {
            "organisation": person.organisation.name,
            # Qualified by its organisation: every council has an "Adult Social Care".
            "department": (
                f"{person.department.name}, {person.department.organisation.name}"
                if person.department
                else UNASSIGNED
            ),
            "profession": person.profession.value.replace("_", " "),
            "staff_group": person.staff_group,
            "role": (
                s.assignment.role.title
                if s.assignment
                else (role.title if role else f"Team: {s.team.name}" if s.team else UNASSIGNED)
            ),
            "team": s.team.name if s.team else INDIVIDUAL,
            "budget_code": budget_code or UNASSIGNED,
            "month": day.strftime("%Y-%m"),
            "quarter": fy_quarter(day),
            "year": financial_year(day),
        }
        out.append(
            CostLine(
                att.id,
                day,
                hours,
                att.cost_pence,
                _round_half_up(att.cost_pence * fraction),
                hours * fraction,
                keys,
            )
        )
    return out


# -- budgets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """A role's or team's annual budget, pro-rated to one day-range inside the period."""

    first: date
    last: date
    pence: Fraction
    keys: dict[str, str]


def _year_days(day: date) -> int:
    start = date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    return (date(start.year + 1, 4, 1) - start).days


def budget_lines(first: date, last: date, organisation: str | None = None) -> list[BudgetLine]:
    """Budgets pro-rated by days to [first, last], split by month (so that month, quarter
    and year groupings add up). Role budgets belong to their host organisation and budget
    code; team budgets to their team and budget code."""
    out: list[BudgetLine] = []
    owners: list[tuple[int, dict[str, str]]] = []
    roles = db.session.scalars(
        sa.select(LeadershipRole)
        .where(LeadershipRole.annual_budget_pence.is_not(None))
        .options(selectinload(LeadershipRole.host_organisation))
    )
    for r in roles:
        if organisation and r.host_organisation.code != organisation:
            continue
        owners.append(
            (
                r.annual_budget_pence or 0,
                {
                    "organisation": r.host_organisation.name,
                    "role": r.title,
                    "team": INDIVIDUAL,
                    "budget_code": r.budget_code or UNASSIGNED,
                },
            )
        )
    if not organisation:
        for t in db.session.scalars(
            sa.select(Team)
            .where(Team.annual_budget_pence.is_not(None))
            .options(selectinload(Team.funding_role))
        ):
            # Keyed as cost_lines keys the team's sessions, so that they share a row.
            funder = t.funding_role
            owners.append(
                (
                    t.annual_budget_pence or 0,
                    {
                        "organisation": TEAM_BUDGETS,
                        "role": funder.title if funder else f"Team: {t.name}",
                        "team": t.name,
                        "budget_code": t.budget_code
                        or (funder.budget_code if funder else None)
                        or UNASSIGNED,
                    },
                )
            )
    day = first
    while day <= last:
        month_end = date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)
        chunk_end = min(month_end, last)
        days = (chunk_end - day).days + 1
        for annual, keys in owners:
            pence = Fraction(annual * days, _year_days(day))
            out.append(
                BudgetLine(
                    day,
                    chunk_end,
                    pence,
                    {
                        **keys,
                        "month": day.strftime("%Y-%m"),
                        "quarter": fy_quarter(day),
                        "year": financial_year(day),
                    },
                )
            )
        day = chunk_end + timedelta(days=1)
    return out


# -- summaries -------------------------------------------------------------------------------------


@dataclass
class Row:
    keys: tuple[str, ...]
    sessions: int = 0
    planned: int = 0
    delivered: int = 0
    budget: Fraction = Fraction(0)
    hours_planned: Fraction = Fraction(0)
    hours_delivered: Fraction = Fraction(0)
    budget_known: bool = False


@dataclass
class Summary:
    by: list[str]
    first: date
    last: date
    rows: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row(()))

    def as_dicts(self) -> list[dict[str, Any]]:
        return [row_dict(self.by, r) for r in self.rows]


def _gbp(pence: int | Fraction) -> float:
    return round(float(Fraction(pence) / 100), 2)


def _two_places(value: Fraction) -> float:
    """Hours (or £ from exact pence per hour) to two decimals, half-up like the money, not
    ``round(float)``'s half-even on a binary approximation (30.125 h shows as 30.13)."""
    return _round_half_up(value * 100) / 100


def row_dict(by: Sequence[str], r: Row) -> dict[str, Any]:
    budget = _round_half_up(r.budget) if r.budget_known else None
    out: dict[str, Any] = dict(zip(by, r.keys))
    out.update(
        {
            "sessions": r.sessions,
            "planned": _gbp(r.planned),
            "delivered": _gbp(r.delivered),
            "budget": _gbp(budget) if budget is not None else None,
            "variance_planned": _gbp(budget - r.planned) if budget is not None else None,
            "variance_delivered": _gbp(budget - r.delivered) if budget is not None else None,
            "hours_planned": _two_places(r.hours_planned),
            "hours_delivered": _two_places(r.hours_delivered),
            "cost_per_delivered_hour": (
                _two_places(Fraction(r.delivered, 100) / r.hours_delivered)
                if r.hours_delivered
                else None
            ),
        }
    )
    return out


BUDGET_KEYS = {"organisation", "role", "team", "budget_code", "month", "quarter", "year"}


def summarise(
    by: Sequence[str],
    first: date | None = None,
    last: date | None = None,
    organisation: str | None = None,
    *,
    lines: list[CostLine] | None = None,
) -> Summary:
    """Planned, delivered and budget side by side for each group of ``by`` (``lines``: the
    period's cost lines, when the caller has them already)."""
    lines = cost_lines(first, last, organisation) if lines is None else lines
    if first is None or last is None:
        days = [ln.day for ln in lines]
        first = first or (min(days) if days else today_london())
        last = last or (max(days) if days else first)
    if last < first:
        raise ValidationError("The period ends before it starts", [FieldError("to", "before from")])
    summary = Summary(list(by), first, last)
    rows: dict[tuple[str, ...], Row] = {}
    total = Row(("Total",))
    for ln in lines:
        key = tuple(ln.keys[g] for g in by)
        row = rows.setdefault(key, Row(key))
        for r in (row, total):
            r.sessions += 1
            r.planned += ln.planned_pence
            r.delivered += ln.delivered_pence
            r.hours_planned += ln.hours
            r.hours_delivered += ln.hours_delivered
    if set(by) <= BUDGET_KEYS:
        for b in budget_lines(first, last, organisation):
            key = tuple(b.keys[g] for g in by)
            row = rows.setdefault(key, Row(key))
            row.budget += b.pence
            row.budget_known = True
        total.budget = Fraction(_round_half_up(sum((r.budget for r in rows.values()), Fraction(0))))
        total.budget_known = True
        _apportion([rows[k] for k in sorted(rows)], int(total.budget))
    summary.rows = [rows[k] for k in sorted(rows)]
    summary.total = total
    return summary


def _apportion(rows: list[Row], total: int) -> None:
    """Round each row's budget to whole pence so that they add up exactly to the rounded
    total (largest remainder first, ties in the order the rows are shown, so the answer does
    not depend on the order in which sessions were stored)."""
    floors = [int(r.budget) for r in rows]  # budgets are never negative
    short = total - sum(floors)
    order = sorted(range(len(rows)), key=lambda i: (-(rows[i].budget - floors[i]), i))
    for i in order[: max(0, short)]:
        floors[i] += 1
    for r, pence in zip(rows, floors):
        r.budget = Fraction(pence)
        r.budget_known = True


def summary_json(s: Summary) -> dict[str, Any]:
    return {
        "by": s.by,
        "from": s.first.isoformat(),
        "to": s.last.isoformat(),
        "rows": s.as_dicts(),
        "totals": row_dict([], s.total),
    }


# -- exports ---------------------------------------------------------------------------------------

MONEY = (
    "planned",
    "delivered",
    "budget",
    "variance_planned",
    "variance_delivered",
    "cost_per_delivered_hour",
)
COLUMNS = (
    "sessions",
    "hours_planned",
    "hours_delivered",
    "planned",
    "delivered",
    "budget",
    "variance_planned",
    "variance_delivered",
    "cost_per_delivered_hour",
)
HEADINGS = {
    "sessions": "Sessions",
    "hours_planned": "Hours planned",
    "hours_delivered": "Hours delivered",
    "planned": "Planned (£)",
    "delivered": "Delivered (£)",
    "budget": "Budget (£)",
    "variance_planned": "Budget − planned (£)",
    "variance_delivered": "Budget − delivered (£)",
    "cost_per_delivered_hour": "Cost per delivered hour (£)",
}


def to_csv(s: Summary) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([GROUPINGS[g] for g in s.by] + [HEADINGS[c] for c in COLUMNS])
    for row in [
        *s.as_dicts(),
        {**{g: "Total" if i == 0 else "" for i, g in enumerate(s.by)}, **row_dict([], s.total)},
    ]:
        writer.writerow(
            [_csv_text(row.get(g, "")) for g in s.by] + [_csv_value(row[c], c) for c in COLUMNS]
        )
    return buf.getvalue()


def _csv_text(name: str) -> str:
    """A name as a spreadsheet will read it: one that begins like a formula gets a leading
    apostrophe so that opening the file cannot run it (OWASP "CSV injection")."""
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def _csv_value(value: Any, column: str) -> str:
    if value is None:
        return ""
    if column in MONEY:
        return f"{value:.2f}"
    return str(value)


def to_xlsx(
    by: Sequence[str], first: date | None, last: date | None, organisation: str | None = None
) -> bytes:
    """A workbook: one sheet per grouping (and one combining them), money in £ with two
    decimals, a totals row, the header frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    sheets: list[list[str]] = [[g] for g in by]
    if len(by) > 1:
        sheets.append(list(by))
    period_first, period_last = first, last
    lines = cost_lines(first, last, organisation)  # once for every sheet
    for grouping in sheets:
        s = summarise(grouping, period_first, period_last, organisation, lines=lines)
        period_first, period_last = s.first, s.last
        title = " × ".join(GROUPINGS[g] for g in grouping)[:31]
        ws = wb.create_sheet(title)
        ws.append([GROUPINGS[g] for g in grouping] + [HEADINGS[c] for c in COLUMNS])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        data = s.as_dicts()
        for row in data:
            ws.append([row[g] for g in grouping] + [row[c] for c in COLUMNS])
            for cell in ws[ws.max_row][: len(grouping)]:
                cell.data_type = "s"  # a name like "=SUM(...)" is text, not a formula
        total = row_dict([], s.total)
        ws.append(["Total"] + [""] * (len(grouping) - 1) + [total[c] for c in COLUMNS])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for i, c in enumerate(COLUMNS, start=len(grouping) + 1):
            fmt = "£#,##0.00" if c in MONEY else ("0" if c == "sessions" else "0.00")
            for r in range(2, ws.max_row + 1):
                ws.cell(row=r, column=i).number_format = fmt
        for i in range(1, len(grouping) + len(COLUMNS) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 22 if i <= len(grouping) else 16
        ws.freeze_panes = "A2"
    info = wb.create_sheet("About")
    info.append(["Period from", period_first])
    info.append(["Period to", period_last])
    info.append(["Organisation", organisation or "All"])
    for r in (1, 2):
        info.cell(row=r, column=2).number_format = "yyyy-mm-dd"
    info.append(["Planned", "cost fixed on published sessions when they were published"])
    info.append(["Delivered", "sessions recorded as taken; part-taken sessions pro rata"])
    info.append(["Budget", "roles' and teams' annual budgets pro-rated by days to the period"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table(s: Summary) -> str:
    """A plain-text table for the terminal."""
    rows = s.as_dicts()
    head = [GROUPINGS[g] for g in s.by] + [
        "Sessions",
        "Planned £",
        "Delivered £",
        "Budget £",
        "Variance £",
    ]
    body = [
        [str(r[g]) for g in s.by]
        + [
            str(r["sessions"]),
            f"{r['planned']:,.2f}",
            f"{r['delivered']:,.2f}",
            "" if r["budget"] is None else f"{r['budget']:,.2f}",
            "" if r["variance_planned"] is None else f"{r['variance_planned']:,.2f}",
        ]
        for r in rows
    ]
    t = row_dict([], s.total)
    body.append(
        ["Total"]
        + [""] * (len(s.by) - 1)
        + [
            str(t["sessions"]),
            f"{t['planned']:,.2f}",
            f"{t['delivered']:,.2f}",
            "" if t["budget"] is None else f"{t['budget']:,.2f}",
            "" if t["variance_planned"] is None else f"{t['variance_planned']:,.2f}",
        ]
    )
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append(
            "  ".join(
                v.rjust(w) if i >= len(s.by) else v.ljust(w)
                for i, (v, w) in enumerate(zip(b, widths))
            )
        )
    return "\n".join(lines)
