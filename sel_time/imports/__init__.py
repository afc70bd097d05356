"""Spreadsheet import of staff, roles, assignments, leave and teams (CSV and XLSX).

Rota managers keep these in spreadsheets. ``columns`` defines each kind's columns, ``reading``
reads a file within its :class:`Limits`, ``cells`` turns cells into payload values,
``service`` checks and writes the rows (all or none, flush only), ``report`` says what was
done and ``templates`` writes the files to fill in. ``api`` holds the upload and template
routes of the REST API, ``pages`` the upload page.
"""
from __future__ import annotations

from .cells import FORMULA
from .columns import KINDS, MAX_COLUMNS, SHEETS, Column, Sheet
from .reading import NOT_UTF8, Limits
from .report import Counts, ImportReport
from .service import PROGRESS_EVERY, Progress, import_file
from .templates import TEMPLATE_DIR, XLSX_MIMETYPE, template_files

__all__ = [
    "FORMULA", "KINDS", "MAX_COLUMNS", "NOT_UTF8", "PROGRESS_EVERY", "SHEETS", "TEMPLATE_DIR",
    "XLSX_MIMETYPE", "Column", "Counts", "ImportReport", "Limits", "Progress", "Sheet",
    "import_file", "template_files",
]
