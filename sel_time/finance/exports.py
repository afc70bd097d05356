"""A cost summary as finance downloads it: CSV (safe to open in a spreadsheet), XLSX, or a
plain-text table for the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from .backfill import GROUPINGS, Summary, cost_lines, row_dict, summarise

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
