"""Malformed spreadsheets through ``POST /api/v1/import`` and ``sel-time import``: each gets a
clear error naming the field (and row) and writes nothing, counted table by table."""

from __future__ import annotations

import csv
import io
import os
import random
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from support.tables import table_counts
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from sel_time.core.extensions import db
from sel_time.imports.reading import RowCounter
from sel_time.models import Absence

LEAVE = ["email", "kind", "start_date", "end_date"]
PEOPLE = ["email", "name", "profession", "band", "organisation"]
PROBLEM = "application/problem+json"


def csv_bytes(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[Any]], title: str = "leave") -> bytes:
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(title)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    book.close()  # a write-only workbook keeps a temporary file open until closed
    return out.getvalue()


@pytest.fixture()
def directory(app: Any, make: Any, login_as: Any) -> dict[str, Any]:
    org = make("organisations", code="kch", name="King's College Hospital")
    person = make("people", organisation_id=org.id, email="ada@nhs.net", name="Ada Okafor")
    return {"person": person.id, "headers": login_as("rota_manager")}


def upload(client: Any, headers: dict[str, str], data: bytes, filename: str, **form: str) -> Any:
    # The body is encoded in memory: werkzeug's test client spools bodies over 500 KB to a
    # temporary file it never closes, which surfaces later as an unraisable ResourceWarning.
    file = FileStorage(io.BytesIO(data), filename=filename)
    boundary, body = encode_multipart({"file": file, **form})
    return client.post(
        "/api/v1/import",
        headers=headers,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def refused(response: Any, status: int, field: str, row: int | None = None) -> dict[str, Any]:
    """The response is a problem document with ``status`` naming ``field`` (at ``row``)."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.mimetype == PROBLEM, body
    assert "Traceback" not in body
    errors = response.get_json().get("errors", [])
    hits = [e for e in errors if e["field"] == field and (row is None or e.get("row") == row)]
    assert hits, f"{field} (row {row}) not named in {body}"
    return response.get_json()


BAD_FILES = {  # name → (file name, bytes, field named, row named)
    "utf16": (
        "leave.csv",
        "\ufeff" + "email,kind,start_date,end_date\r\nada@nhs.net,annual,2027-03-01,2027-03-02\r\n",
        "file",
        None,
    ),
    "latin1": (
        "people.csv",
        "email,name,profession,band,organisation\r\nzoe@nhs.net,Zoë Müller,nurse,7,kch\r\n",
        "file",
        None,
    ),
    "extra column": (
        "leave.csv",
        csv_bytes(
            [LEAVE + ["shoe_size"], ["ada@nhs.net", "annual", "2027-03-01", "2027-03-02", "9"]]
        ),
        "shoe_size",
        1,
    ),
    "missing column": (
        "leave.csv",
        csv_bytes([["email", "kind", "start_date"], ["ada@nhs.net", "annual", "2027-03-01"]]),
        "end_date",
        1,
    ),
    "csv formula": (
        "leave.csv",
        csv_bytes([LEAVE, ["ada@nhs.net", "annual", "=TODAY()", "2027-03-02"]]),
        "start_date",
        2,
    ),
    "csv injection": (
        "people.csv",
        csv_bytes([PEOPLE, ["zoe@nhs.net", '=HYPERLINK("http://x","y")', "nurse", "7", "kch"]]),
        "name",
        2,
    ),
    "xlsx formula": (
        "leave.xlsx",
        xlsx_bytes([LEAVE, ["ada@nhs.net", "annual", "=DATE(2027,3,1)", "2027-03-02"]]),
        "leave.start_date",
        2,
    ),
    "excel serial in csv": (
        "leave.csv",
        csv_bytes([LEAVE, ["ada@nhs.net", "annual", "46447", "2027-03-02"]]),
        "start_date",
        2,
    ),
    "impossible date": (
        "leave.csv",
        csv_bytes([LEAVE, ["ada@nhs.net", "annual", "31/02/2027", "2027-03-02"]]),
        "start_date",
        2,
    ),
    "random bytes": ("leave.xlsx", random.Random(9).randbytes(50_000), "file", None),
    "zip that is no workbook": ("leave.xlsx", b"", "file", None),  # filled below
    "empty csv header only": ("leave.csv", b"\r\n\r\n", "file", 1),
    "no kind": ("upload.csv", csv_bytes([["a", "b"], ["1", "2"]]), "kind", None),
}
BAD_FILES["utf16"] = ("leave.csv", BAD_FILES["utf16"][1].encode("utf-16-le"), "file", None)  # type: ignore[union-attr]
BAD_FILES["latin1"] = ("people.csv", BAD_FILES["latin1"][1].encode("latin-1"), "file", None)  # type: ignore[union-attr]
_zip = io.BytesIO()
with zipfile.ZipFile(_zip, "w") as z:
    z.writestr("hello.txt", "not a workbook")
BAD_FILES["zip that is no workbook"] = ("leave.xlsx", _zip.getvalue(), "file", None)


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_via_api_writes_nothing(client: Any, directory: dict[str, Any], case: str) -> None:
    filename, data, field, row = BAD_FILES[case]
    before = table_counts()
    doc = refused(upload(client, directory["headers"], data, filename), 422, field, row)
    assert doc["detail"]
    db.session.rollback()
    assert table_counts() == before


@pytest.mark.parametrize(
    "case", ["utf16", "latin1", "missing column", "xlsx formula", "random bytes"]
)
def test_bad_file_via_cli_writes_nothing(
    runner: Any, directory: dict[str, Any], tmp_path: Any, case: str
) -> None:
    filename, data, field, row = BAD_FILES[case]
    path = tmp_path / filename
    path.write_bytes(data)
    before = table_counts()
    result = runner.invoke(args=["sel-time", "import", str(path)])
    assert result.exit_code == 2, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert (
        field.split(".")[-1] in result.output or "UTF-8" in result.output or "XLSX" in result.output
    ), result.output
    db.session.rollback()
    assert table_counts() == before


def _many_rows_csv(n: int) -> bytes:
    lines = ["email,kind,start_date,end_date"]
    lines += [f"p{i}@nhs.net,annual,2027-03-01,2027-03-02" for i in range(n)]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture()
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many data rows the importer read before it answered."""
    seen = [0]
    add = RowCounter.add

    def counting(self: Any) -> None:
        seen[0] += 1
        add(self)

    monkeypatch.setattr(RowCounter, "add", counting)
    return seen


def test_100k_rows_via_api_refused_at_the_limit(
    client: Any, directory: dict[str, Any], rows_read: list[int]
) -> None:
    data = _many_rows_csv(100_000)
    assert len(data) < 5 * 1024 * 1024  # under the upload limit: the row limit must answer
    before = table_counts()
    doc = refused(upload(client, directory["headers"], data, "leave.csv"), 422, "file")
    assert "rows" in doc["detail"] and "20000" in doc["detail"]
    assert rows_read[0] == 20_001  # stopped reading at the first row over the limit
    db.session.rollback()
    assert table_counts() == before


def _big_xlsx(n: int) -> bytes:
    """A workbook of ``n`` leave rows, its sheet XML written directly (openpyxl takes ~10 s)."""
    template = io.BytesIO(xlsx_bytes([LEAVE]))
    cell = '<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    rows = [
        '<row r="1">'
        + "".join(cell.format(ref=f"{c}1", text=t) for c, t in zip("ABCD", LEAVE))
        + "</row>"
    ]
    rows += [
        f'<row r="{r}">'
        + cell.format(ref=f"A{r}", text=f"p{r}@nhs.net")
        + cell.format(ref=f"B{r}", text="annual")
        + "</row>"
        for r in range(2, n + 2)
    ]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>" + "".join(rows) + "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = sheet.encode() if item.filename == "xl/worksheets/sheet1.xml" else src.read(item)
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.slow
def test_100k_rows_xlsx_via_cli_refused_at_the_limit(
    runner: Any, directory: dict[str, Any], tmp_path: Any, rows_read: list[int]
) -> None:
    path = tmp_path / "leave.xlsx"
    path.write_bytes(_big_xlsx(100_000))
    before = table_counts()
    result = runner.invoke(args=["sel-time", "import", str(path)])
    assert result.exit_code == 2 and "more than 20000 rows" in result.output, result.output
    assert rows_read[0] == 20_001  # stopped reading at the first row over the limit
    db.session.rollback()
    assert table_counts() == before


def test_oversized_upload_is_413_problem(app: Any, client: Any, directory: dict[str, Any]) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before = table_counts()
    response = upload(client, directory["headers"], _many_rows_csv(3000), "leave.csv")
    refused(response, 413, "file")
    db.session.rollback()
    assert table_counts() == before


def test_dates_in_three_formats_mean_the_same_day(client: Any, directory: dict[str, Any]) -> None:
    """ISO text, UK text and an Excel date cell all read as 1 March 2027; nothing else does."""
    rows = [
        LEAVE,
        ["ada@nhs.net", "annual", "2027-03-01", "2027-03-01"],
        ["ada@nhs.net", "study", "08/03/2027", "08/03/2027"],
        ["ada@nhs.net", "other", datetime(2027, 3, 15), date(2027, 3, 15)],
    ]
    response = upload(client, directory["headers"], xlsx_bytes(rows), "leave.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    starts = sorted(db.session.scalars(sa.select(Absence.start_date)))
    assert starts == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15)]


def test_a_date_with_a_time_is_refused(client: Any, directory: dict[str, Any]) -> None:
    rows = [LEAVE, ["ada@nhs.net", "annual", datetime(2027, 3, 1, 9, 30), "2027-03-02"]]
    before = table_counts()
    refused(
        upload(client, directory["headers"], xlsx_bytes(rows), "leave.xlsx"),
        422,
        "leave.start_date",
        2,
    )
    db.session.rollback()
    assert table_counts() == before


def test_upload_without_a_file_or_with_a_bad_kind(client: Any, directory: dict[str, Any]) -> None:
    h = directory["headers"]
    refused(client.post("/api/v1/import", headers=h, data={}), 400, "file")
    refused(
        client.post("/api/v1/import", headers=h, data=b"raw", content_type="text/csv"), 400, "file"
    )
    refused(upload(client, h, csv_bytes([LEAVE]), "leave.csv", kind="../../etc"), 422, "kind")
    refused(upload(client, h, b"", "leave.csv"), 400, "file")


def test_environment_is_not_tuned(app: Any) -> None:
    """The limits these tests rely on are the shipped defaults."""
    assert app.config["IMPORT_MAX_ROWS"] == 20000 or "SEL_TIME_IMPORT_MAX_ROWS" in os.environ


@pytest.mark.slow
def test_a_long_import_shows_its_progress_in_the_terminal(
    runner: Any, directory: dict[str, Any], tmp_path: Any
) -> None:
    from datetime import timedelta

    days = [date(2027, 1, 1) + timedelta(days=i) for i in range(1001)]
    path = tmp_path / "leave.csv"
    path.write_bytes(
        csv_bytes([LEAVE] + [["ada@nhs.net", "annual", d.isoformat(), d.isoformat()] for d in days])
    )
    result = runner.invoke(args=["sel-time", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "leave: 1001 created" in result.stdout
    shown = [part.strip() for part in result.stderr.split("\r") if part.strip()]
    assert [line.split("% ", 1)[1].strip() for line in shown] == [
        "500 of 1,001 rows checked",
        "1,000 of 1,001 rows checked",
        "1,001 of 1,001 rows checked",
    ]
    assert shown[-1].startswith("[" + "#" * 30 + "] 100.0%")
