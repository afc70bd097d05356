"""Survey results as CSV and XLSX: only what the results page publishes (withheld cells say
"fewer than k responses"; no respondent-level row exists to export)."""
from __future__ import annotations

import csv
import io
from typing import Any

from .bank import BREAKDOWNS
from .results import withheld_label, withheld_text

HEAD = ["Question", "Theme", "Breakdown", "Group", "Responses", "Mean", "95% low", "95% high",
        "Distribution"]


def result_rows(r: dict[str, Any]) -> list[list[Any]]:
    k = r["k"]
    rows: list[list[Any]] = []

    def cell_row(q: dict[str, Any], breakdown: str, group: str, cell: dict[str, Any] | None,
                 label: str | None = None) -> list[Any]:
        if cell is None:
            return [q["text"], q["theme"], breakdown, group, label or withheld_text(k), "", "",
                    "", ""]
        dist = "; ".join(f"{o}: {c}" for o, c in cell.get("distribution", {}).items())
        return [q["text"], q["theme"], breakdown, group, cell["n"], cell.get("mean", ""),
                cell.get("low", ""), cell.get("high", ""), dist]

    for q in r["questions"]:
        if q["kind"] == "text":
            if q["withheld"]:
                rows.append([q["text"], q["theme"], "All", "All", withheld_text(k), "", "", "",
                             ""])
            for c in q["comments"]:
                rows.append([q["text"], q["theme"], "All", "Comment", "", "", "", "", c])
            continue
        rows.append(cell_row(q, "All", "All", q["overall"]))
        for key, label in BREAKDOWNS.items():
            combined = any(g.get("others") for g in q["by"][key])
            for g in q["by"][key]:
                rows.append(cell_row(q, label, g["group"], None if g["withheld"] else g,
                                     withheld_label(k, combined)))
    return rows


def _text(value: Any) -> Any:
    """A cell a spreadsheet will not run: text that starts like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def results_csv(r: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEAD)
    for row in result_rows(r):
        w.writerow([_text(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def results_xlsx(r: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"Wave {r['wave']}"
    ws.append(HEAD)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in result_rows(r):
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    about = wb.create_sheet("About")
    about.append(["Survey", r["survey"]])
    about.append(["Wave", r["wave"]])
    about.append(["Invited", r["invited"]])
    about.append(["Responses", r["responses"] if r["responses"] is not None else withheld_text(
        r["k"])])
    about.append(["Suppression", f"cells with fewer than {r['k']} responses are withheld, "
                  "with more withheld where totals would reveal them"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
