"""The template files rota managers fill in: a CSV file per kind and XLSX workbooks.

``python -m sel_time.imports`` writes them under ``sel_time/data/templates/`` after a change to
the column definitions.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from .cells import cell_text
from .columns import KINDS, SHEETS

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "data" / "templates"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_rows(kind: str) -> tuple[list[str], list[Any]]:
    """The header and the example row of a kind's template."""
    sheet = SHEETS[kind]
    return [c.name for c in sheet.columns], [c.example for c in sheet.columns]


def template_csv(kind: str) -> bytes:
    """A kind's template as CSV UTF-8 (with the byte-order mark Excel looks for)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header, example = template_rows(kind)
    writer.writerow(header)
    writer.writerow(["" if v is None else cell_text(v) for v in example])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(kinds: Iterable[str]) -> bytes:
    """A workbook with one sheet per kind: a header (required columns marked, hints as
    comments), one example row, and drop-down lists for the columns with fixed choices."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    fixed = datetime(2026, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "sel-time"
    for kind in kinds:
        ws = book.create_sheet(kind)
        header, example = template_rows(kind)
        ws.append(header)
        ws.append([None if v == "" else v for v in example])
        for i, col in enumerate(SHEETS[kind].columns, start=1):
            letter = get_column_letter(i)
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            if col.required:
                cell.fill = PatternFill("solid", fgColor="FFE699")
            hint = ("Required." if col.required else "Optional.") + (
                f" {col.help[:1].upper()}{col.help[1:]}." if col.help else "")
            if col.choices is not None:
                hint += " One of: " + ", ".join(str(m.value) for m in col.choices) + "."
                values = ",".join(str(m.value) for m in col.choices)
                rule = DataValidation(type="list", allow_blank=not col.required,
                                      formula1=f'"{values}"')
                rule.add(f"{letter}2:{letter}2000")
                ws.add_data_validation(rule)
            if col.type == "date":
                hint += " A date: 2026-03-02 or 02/03/2026."
                ws.cell(row=2, column=i).number_format = "yyyy-mm-dd"
            cell.comment = Comment(hint.strip(), "sel-time")
            shown = len(cell_text(col.example or ""))
            ws.column_dimensions[letter].width = max(12, len(col.name) + 2, min(40, shown + 2))
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_files() -> dict[str, bytes]:
    """Every template file by name: ``<kind>.csv``, ``<kind>.xlsx`` and ``workbook.xlsx``."""
    files: dict[str, bytes] = {}
    for kind in KINDS:
        files[f"{kind}.csv"] = template_csv(kind)
        files[f"{kind}.xlsx"] = template_xlsx([kind])
    files["workbook.xlsx"] = template_xlsx(KINDS)
    return files


def write_templates(directory: Path = TEMPLATE_DIR) -> list[Path]:
    """Write the template files (run ``python -m sel_time.imports`` after changing SHEETS)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in template_files().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written

