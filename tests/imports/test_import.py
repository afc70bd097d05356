"""Spreadsheet import: every bad row reported, all or nothing, idempotent, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from support.tables import table_counts

from sel_time import imports
from sel_time.core.audit import CLI_ACTOR
from sel_time.core.errors import ValidationError
from sel_time.core.extensions import db
from sel_time.imports import import_file
from sel_time.models import (
    Absence,
    AuditEvent,
    Half,
    LeadershipRole,
    Person,
    RoleAssignment,
    SessionKind,
    Team,
)

PEOPLE_HEADER = [
    "email",
    "name",
    "profession",
    "band",
    "organisation",
    "department",
    "fte",
    "backfill_rate",
    "clinical_sessions",
    "non_clinical_sessions",
]


def csv_bytes(rows: list[list[Any]], bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_errors(data: bytes, filename: str, **kw: Any) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ValidationError) as info:
        import_file(data, filename, CLI_ACTOR, **kw)
    db.session.rollback()
    return [(e.row, e.field, e.message) for e in info.value.errors]


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) or 0


@pytest.fixture()
def org(make: Any) -> Any:
    org = make("organisations", code="gstt")
    make("departments", code="gstt-community", organisation_id=org.id)
    return org


GOOD_PEOPLE = [
    PEOPLE_HEADER,
    [
        "Amara.Okafor@nhs.net",
        "Amara Okafor",
        "Nurse",
        "7",
        "GSTT",
        "gstt-community",
        "0.8",
        "",
        "Mon AM, Mon PM, Tue AM",
        "Wed PM",
    ],
    ["ben.adeyemi@nhs.net", "Ben Adeyemi", "consultant", "", "gstt", "", "1", "£120.50", "", ""],
]


# -- all or nothing ----------------------------------------------------------------------------


def test_every_bad_row_is_listed_by_row_and_column_and_nothing_is_written(
    app: Any, org: Any
) -> None:
    data = xlsx_bytes(
        {
            "people": [
                PEOPLE_HEADER,
                ["good@nhs.net", "Good Person", "nurse", "7", "gstt", "", 1, None, None, None],
                ["not-an-email", "Bad Email", "nurse", "7", "gstt", "", 1, None, None, None],
                ["nowhere@nhs.net", "No Org", "nurse", "7", "no-such-org", "", 1, None, None, None],
                [None, None, None, None, None, None, None, None, None, None],  # blank: skipped
                [
                    "wizard@nhs.net",
                    "Unknown Profession",
                    "wizard",
                    "7",
                    "gstt",
                    "",
                    1,
                    None,
                    None,
                    None,
                ],
                ["GOOD@nhs.net", "Duplicate", "nurse", "7", "gstt", "", 1, None, None, None],
            ],
            "leave": [
                ["email", "kind", "start_date", "end_date"],
                ["good@nhs.net", "annual", date(2026, 3, 6), date(2026, 3, 2)],
                ["good@nhs.net", "study", "2026-04-01", "2026-04-02"],
            ],
        }
    )
    before = table_counts()
    errors = import_errors(data, "staff.xlsx")
    assert errors == [
        (3, "people.email", errors[0][2]),
        (4, "people.organisation", "no organisation with code no-such-org"),
        (6, "people.profession", errors[2][2]),
        (7, "people.email", "good@nhs.net is also on row 2"),
        (2, "leave.end_date", "ends before it starts"),
    ]
    assert "email" in errors[0][2]
    assert "'nurse'" in errors[2][2]  # the allowed values are named
    assert table_counts() == before
    assert db.session.scalar(sa.select(Person).where(Person.email == "good@nhs.net")) is None


def test_the_error_summary_counts_rows(app: Any, org: Any) -> None:
    data = csv_bytes(
        [
            ["email", "name", "profession", "organisation"],
            ["x", "", "nurse", "gstt"],
            ["y@nhs.net", "Y", "nurse", "nope"],
        ]
    )
    with pytest.raises(ValidationError) as info:
        import_file(data, "people.csv", CLI_ACTOR)
    assert info.value.detail == "2 rows have errors; nothing was imported"
    assert [(e.row, e.field) for e in info.value.errors] == [
        (2, "email"),
        (2, "name"),
        (3, "organisation"),
    ]
    assert info.value.errors[1].message == "is required"
    assert info.value.status == 422


def test_a_reference_to_a_bad_row_says_so(app: Any, org: Any) -> None:
    data = xlsx_bytes(
        {
            "people": [
                ["email", "name", "profession", "organisation"],
                ["a@nhs.net", "A", "wizard", "gstt"],
            ],
            "leave": [
                ["email", "kind", "start_date", "end_date"],
                ["a@nhs.net", "annual", "2026-03-02", "2026-03-02"],
                ["b@nhs.net", "annual", "2026-03-02", "2026-03-02"],
            ],
        }
    )
    errors = import_errors(data, "book.xlsx")
    assert errors[1:] == [
        (2, "leave.email", "a@nhs.net is on row 2 of people, which has errors"),
        (3, "leave.email", "no person with email b@nhs.net"),
    ]


def test_service_rules_apply_to_rows(app: Any, org: Any, make: Any) -> None:
    """Overlapping leave and a department of another organisation: the API's own rules."""
    other = make("organisations", code="kch")
    make("departments", code="kch-ed", organisation_id=other.id)
    make("people", email="c@nhs.net", organisation_id=org.id)
    data = xlsx_bytes(
        {
            "people": [
                ["email", "name", "profession", "organisation", "department"],
                ["d@nhs.net", "D", "nurse", "gstt", "kch-ed"],
            ],
            "leave": [
                ["email", "kind", "start_date", "start_half", "end_date", "end_half"],
                ["c@nhs.net", "annual", "2026-03-02", "AM", "2026-03-04", "PM"],
                ["c@nhs.net", "study", "2026-03-04", "PM", "2026-03-05", "PM"],
            ],
        }
    )
    errors = import_errors(data, "book.xlsx")
    assert errors[0][:2] == (2, "people.department")
    assert "belongs to another organisation" in errors[0][2]
    assert errors[1][:2] == (3, "leave.start_date")
    assert "overlaps annual leave 2026-03-02 to 2026-03-04" in errors[1][2]


# -- creating, re-importing, updating ----------------------------------------------------------


def test_good_csv_creates_people(app: Any, org: Any) -> None:
    report = import_file(csv_bytes(GOOD_PEOPLE), "people.csv", CLI_ACTOR)
    db.session.commit()
    assert report.as_dict()["counts"] == {"people": {"created": 2, "updated": 0, "unchanged": 0}}
    assert "people: 2 created, 0 updated, 0 unchanged" in report.summary()
    amara = db.session.scalar(sa.select(Person).where(Person.email == "amara.okafor@nhs.net"))
    assert amara.profession.value == "nurse" and amara.fte == 0.8
    assert amara.department.code == "gstt-community" and amara.staff_group == "afc_band_7"
    assert [(p.weekday, p.half, p.kind) for p in amara.pattern] == [
        (0, Half.AM, SessionKind.CLINICAL),
        (0, Half.PM, SessionKind.CLINICAL),
        (1, Half.AM, SessionKind.CLINICAL),
        (2, Half.PM, SessionKind.NON_CLINICAL),
    ]
    ben = db.session.scalar(sa.select(Person).where(Person.email == "ben.adeyemi@nhs.net"))
    assert ben.backfill_rate_pence == 12050 and ben.department_id is None
    assert len(ben.pattern) == 10  # blank sessions: Monday to Friday, all clinical
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.entity) for e in events[-3:]] == [
        ("create", "people"),
        ("create", "people"),
        ("import", "spreadsheet"),
    ]
    assert events[-1].new["file"] == "people.csv"
    assert events[-1].new["people"] == {"created": 2, "updated": 0, "unchanged": 0}


def test_reimporting_the_same_file_changes_nothing(app: Any, org: Any) -> None:
    data = csv_bytes(GOOD_PEOPLE)
    import_file(data, "people.csv", CLI_ACTOR)
    db.session.commit()
    before, audits = table_counts(), audit_count()
    stamps = db.session.execute(sa.select(Person.id, Person.updated_at)).all()
    report = import_file(data, "people.csv", CLI_ACTOR)
    db.session.commit()
    assert report.as_dict()["counts"]["people"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert "nothing changed" in report.summary()
    assert table_counts() == before and audit_count() == audits
    assert db.session.execute(sa.select(Person.id, Person.updated_at)).all() == stamps


def test_a_changed_row_is_updated_through_the_service(app: Any, org: Any) -> None:
    import_file(csv_bytes(GOOD_PEOPLE), "people.csv", CLI_ACTOR)
    db.session.commit()
    changed = [row[:] for row in GOOD_PEOPLE]
    changed[1][1] = "Amara Okafor-Smith"
    changed[1][8] = "Mon AM, Tue AM"
    report = import_file(csv_bytes(changed), "people.csv", CLI_ACTOR)
    db.session.commit()
    assert report.counts["people"].updated == 1 and report.counts["people"].unchanged == 1
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.old["name"] == "Amara Okafor" and event.new["name"] == "Amara Okafor-Smith"
    assert set(event.new) == {"name", "pattern"}


def test_a_workbook_imports_every_kind_in_dependency_order(app: Any, org: Any) -> None:
    sheets = {  # deliberately out of order: leave and teams refer to the people sheet
        "leave": [
            ["email", "kind", "start_date", "start_half", "end_date", "end_half", "note"],
            [
                "amara@nhs.net",
                "Annual",
                datetime(2026, 4, 7),
                "am",
                datetime(2026, 4, 10),
                "PM",
                "Easter",
            ],
        ],
        "teams": [
            [
                "code",
                "name",
                "kind",
                "sessions_per",
                "quorum",
                "allowed_slots",
                "members",
                "funding_role",
            ],
            [
                "lambeth-clt",
                "Lambeth CLT",
                "leadership team",
                "month",
                2,
                "Wed/PM; thu am",
                "amara@nhs.net; ben@nhs.net",
                "lambeth-lead",
            ],
        ],
        "People": [
            ["email", "name", "profession", "band", "organisation", "max_per_week", "staff_number"],
            ["amara@nhs.net", "Amara", "nurse", 7, "GSTT", 2, 100234],
            ["ben@nhs.net", "Ben", "gp", None, "gstt", None, None],
        ],
        "assignments": [
            ["email", "role", "start_date", "end_date", "share"],
            ["amara@nhs.net", "LAMBETH-LEAD", date(2026, 4, 1), None, 0.5],
        ],
        "roles": [
            [
                "code",
                "title",
                "level",
                "host_organisation",
                "commitment_amount",
                "commitment_unit",
                "commitment_per",
                "annual_budget",
            ],
            ["Lambeth-Lead", "Lambeth lead", "place", "gstt", 1, "PA", "week", 12345.67],
        ],
    }
    data = xlsx_bytes(sheets)
    report = import_file(data, "sel.xlsx", CLI_ACTOR)
    db.session.commit()
    assert list(report.counts) == ["roles", "people", "assignments", "leave", "teams"]
    assert all(c.created == (2 if k == "people" else 1) for k, c in report.counts.items())
    role = db.session.scalars(sa.select(LeadershipRole)).one()
    assert role.code == "lambeth-lead" and role.annual_budget_pence == 1234567
    amara = db.session.scalar(sa.select(Person).where(Person.email == "amara@nhs.net"))
    assert amara.staff_number == "100234" and amara.max_per_week == 2
    leave = db.session.scalars(sa.select(Absence)).one()
    assert (leave.person_id, leave.kind.value, leave.start_date, leave.end_date, leave.note) == (
        amara.id,
        "annual",
        date(2026, 4, 7),
        date(2026, 4, 10),
        "Easter",
    )
    assignment = db.session.scalars(sa.select(RoleAssignment)).one()
    assert (assignment.person_id, assignment.role_id, assignment.share) == (amara.id, role.id, 0.5)
    team = db.session.scalars(sa.select(Team)).one()
    assert sorted(m.email for m in team.members) == ["amara@nhs.net", "ben@nhs.net"]
    assert team.allowed_slots == ["Wed/PM", "Thu/AM"] and team.funding_role_id == role.id
    # The same workbook again: nothing changes, nothing is audited.
    before, audits = table_counts(), audit_count()
    again = import_file(data, "sel.xlsx", CLI_ACTOR)
    db.session.commit()
    assert again.changed == 0 and table_counts() == before and audit_count() == audits


def test_dry_run_checks_everything_and_writes_nothing(app: Any, org: Any) -> None:
    before, audits = table_counts(), audit_count()
    report = import_file(csv_bytes(GOOD_PEOPLE), "people.csv", CLI_ACTOR, dry_run=True)
    db.session.commit()
    assert report.counts["people"].created == 2 and report.dry_run
    assert "dry run" in report.summary()
    assert table_counts() == before and audit_count() == audits


# -- cells -------------------------------------------------------------------------------------


def test_dates_in_iso_uk_and_excel_form(app: Any, org: Any, make: Any) -> None:
    make("people", email="p@nhs.net", organisation_id=org.id)
    data = xlsx_bytes(
        {
            "leave": [
                ["email", "kind", "start_date", "end_date"],
                ["p@nhs.net", "annual", "2026-03-02", "03/03/2026"],
                ["p@nhs.net", "study", date(2026, 3, 9), "2026-03-09 00:00:00"],
                ["p@nhs.net", "other", "2/4/2026", datetime(2026, 4, 2)],
            ]
        }
    )
    import_file(data, "leave.xlsx", CLI_ACTOR)
    got = db.session.execute(
        sa.select(Absence.start_date, Absence.end_date).order_by(Absence.start_date)
    ).all()
    assert got == [
        (date(2026, 3, 2), date(2026, 3, 3)),
        (date(2026, 3, 9), date(2026, 3, 9)),
        (date(2026, 4, 2), date(2026, 4, 2)),
    ]


def test_other_date_formats_are_row_errors_naming_the_column(app: Any, org: Any, make: Any) -> None:
    make("people", email="p@nhs.net", organisation_id=org.id)
    data = csv_bytes(
        [
            ["email", "kind", "start_date", "end_date"],
            ["p@nhs.net", "annual", "March 2nd", "2026-03-03"],
            ["p@nhs.net", "annual", "2026-03-10", "31/02/2026"],
            ["p@nhs.net", "annual", "2026-03-10", "03/11/26"],
        ]
    )
    assert import_errors(data, "leave.csv") == [
        (2, "start_date", '"March 2nd" is not a date: write 2026-03-02 or 02/03/2026'),
        (3, "end_date", '"31/02/2026" is not a real date'),
        (4, "end_date", '"03/11/26" is not a date: write 2026-03-02 or 02/03/2026'),
    ]


def test_formulas_are_refused(app: Any, org: Any) -> None:
    data = xlsx_bytes(
        {
            "people": [
                ["email", "name", "profession", "organisation"],
                ["a@nhs.net", '=CONCAT("A", "B")', "nurse", "gstt"],
            ]
        }
    )
    assert import_errors(data, "people.xlsx") == [(2, "people.name", imports.FORMULA)]
    assert "formulas are not allowed" in imports.FORMULA
    data = csv_bytes(
        [
            ["email", "name", "profession", "organisation"],
            ["a@nhs.net", "=HYPERLINK(\"http://x\")", "nurse", "gstt"],
        ]
    )
    assert import_errors(data, "people.csv") == [(2, "name", imports.FORMULA)]


def test_people_sessions_are_checked(app: Any, org: Any) -> None:
    data = csv_bytes(
        [
            [
                "email",
                "name",
                "profession",
                "organisation",
                "clinical_sessions",
                "non_clinical_sessions",
            ],
            ["a@nhs.net", "A", "nurse", "gstt", "Mon AM, Mon XX", ""],
            ["b@nhs.net", "B", "nurse", "gstt", "Mon AM, Tue PM", "tuesday pm"],
            ["c@nhs.net", "C", "nurse", "gstt", "Mon AM; mon am", ""],
        ]
    )
    assert import_errors(data, "people.csv") == [
        (2, "clinical_sessions", '"Mon XX" is not a half-day like "Mon AM"'),
        (3, "non_clinical_sessions", "Tue PM also in clinical_sessions"),
        (4, "clinical_sessions", "Mon AM is listed twice"),
    ]


# -- files -------------------------------------------------------------------------------------


def test_utf8_with_and_without_bom_is_read(app: Any, org: Any) -> None:
    rows = [
        ["email", "name", "profession", "organisation"],
        ["zoe@nhs.net", "Zoë Brontë", "gp", "gstt"],
    ]
    import_file(csv_bytes(rows, bom=True), "people.csv", CLI_ACTOR)
    assert db.session.scalar(sa.select(Person.name)) == "Zoë Brontë"
    assert import_file(csv_bytes(rows), "people.csv", CLI_ACTOR).counts["people"].unchanged == 1


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-16-le", "cp1252"])
def test_other_encodings_are_refused(app: Any, org: Any, encoding: str) -> None:
    text = "email,name,profession,organisation\r\nzoe@nhs.net,Zoë Brontë,nurse,gstt\r\n"
    errors = import_errors(text.encode(encoding), "people.csv")
    assert errors == [(None, "file", "file is not UTF-8 encoded: save it as CSV UTF-8")]


def test_unknown_and_missing_columns_are_named(app: Any, org: Any) -> None:
    data = csv_bytes(
        [["email", "Full Name", "profession", "grade"], ["a@nhs.net", "A", "nurse", "7"]]
    )
    with pytest.raises(ValidationError) as info:
        import_file(data, "people.csv", CLI_ACTOR)
    got = {(e.field, e.message.split(":")[0]) for e in info.value.errors}
    assert got == {
        ("full_name", "unknown column"),
        ("grade", "unknown column"),
        ("name", "this required column is missing"),
        ("organisation", "this required column is missing"),
    }
    assert all(e.row == 1 for e in info.value.errors)
    assert "full_name" in info.value.detail and "organisation" in info.value.detail


def test_values_without_a_header_are_refused(app: Any, org: Any) -> None:
    data = csv_bytes(
        [
            ["email", "name", "profession", "organisation"],
            ["a@nhs.net", "A", "nurse", "gstt", "stray"],
        ]
    )
    assert import_errors(data, "people.csv") == [
        (1, "column E", "values under a column with no header")
    ]


def test_the_row_limit_comes_from_config(app: Any, org: Any) -> None:
    app.config["IMPORT_MAX_ROWS"] = 2
    rows = [["email", "name", "profession", "organisation"]] + [
        [f"p{i}@nhs.net", f"P{i}", "gp", "gstt"] for i in range(3)
    ]
    assert import_errors(csv_bytes(rows), "people.csv") == [(None, "file", "more than 2 rows")]
    assert import_file(csv_bytes(rows[:3]), "people.csv", CLI_ACTOR).counts["people"].created == 2


@pytest.mark.parametrize(
    ("filename", "kind", "header", "expected"),
    [
        ("anything.csv", "people", ["email", "name", "profession", "organisation"], "people"),
        ("staff-2026.csv", None, ["email", "name", "profession", "organisation"], "people"),
        ("export.csv", None, ["email", "name", "profession", "organisation"], "people"),
        ("export.csv", None, ["code", "name", "kind", "sessions_per", "quorum"], "teams"),
        ("role-assignments.csv", None, ["email", "role", "start_date"], "assignments"),
    ],
)
def test_the_kind_of_a_csv_file(
    app: Any, org: Any, filename: str, kind: str | None, header: list[str], expected: str
) -> None:
    report = import_file(csv_bytes([header]), filename, CLI_ACTOR, kind=kind, dry_run=True)
    assert list(report.counts) == [expected]


def test_a_csv_file_of_unknown_kind_is_refused(app: Any) -> None:
    errors = import_errors(csv_bytes([["email", "colour"]]), "export.csv")
    assert errors[0][1] == "kind"
    assert import_errors(csv_bytes([["email"]]), "x.csv", kind="pets")[0][1] == "kind"


def test_unknown_sheets_and_broken_workbooks_are_refused(app: Any) -> None:
    data = xlsx_bytes({"people": [["email"]], "Notes": [["anything"]]})
    assert import_errors(data, "book.xlsx")[0][:2] == (None, "Notes")
    assert import_errors(b"PK\x03\x04 not really a zip", "book.xlsx") == [
        (None, "file", "not a valid XLSX workbook")
    ]
    assert import_errors(b"\xd0\xcf\x11\xe0", "old.xls")[0][1] == "file"


def test_cli_import(app: Any, org: Any, runner: Any, tmp_path: Any) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(GOOD_PEOPLE))
    result = runner.invoke(args=["sel-time", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "people: 2 created, 0 updated, 0 unchanged" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([["email", "name", "profession", "organisation"], ["x", "X", "nurse", "gstt"]])
    )
    result = runner.invoke(args=["sel-time", "import", "--kind", "people", str(bad)])
    assert result.exit_code == 2
    assert "1 row has errors" in result.output and "row 2, email:" in result.output


# -- templates ---------------------------------------------------------------------------------


def test_template_files_match_the_column_definitions() -> None:
    """The files under sel_time/data/templates are regenerated with
    ``python -m sel_time.imports``."""
    for name, content in imports.template_files().items():
        stored = (imports.TEMPLATE_DIR / name).read_bytes()
        if name.endswith(".csv"):
            assert stored == content, f"{name} is stale: run python -m sel_time.imports"
        else:
            assert _workbook_values(stored) == _workbook_values(content), f"{name} is stale"


def _workbook_values(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_template_example_rows_import(app: Any, org: Any) -> None:
    data = (imports.TEMPLATE_DIR / "workbook.xlsx").read_bytes()
    report = import_file(data, "workbook.xlsx", CLI_ACTOR)
    db.session.commit()
    assert {k: c.created for k, c in report.counts.items()} == dict.fromkeys(imports.KINDS, 1)
    person = db.session.scalars(sa.select(Person)).one()
    assert person.fte == 0.8 and len(person.pattern) == 8
    for kind in imports.KINDS:  # each kind's CSV and XLSX template holds the same row
        for ext in ("csv", "xlsx"):
            name = f"{kind}.{ext}"
            again = import_file((imports.TEMPLATE_DIR / name).read_bytes(), name, CLI_ACTOR)
            assert again.as_dict()["counts"] == {
                kind: {"created": 0, "updated": 0, "unchanged": 1}
            }, name
    role = db.session.scalars(sa.select(LeadershipRole)).one()
    assert role.annual_budget_pence == 1200000 and Decimal(role.commitment_amount) == 1


def test_codes_match_whatever_their_case(app: Any, org: Any) -> None:
    """Codes stored in capitals (as the demo loader writes them) are matched case-blind."""
    db.session.add(
        LeadershipRole(
            code="GSTT-LEAD",
            title="Lead",
            level="place",
            host_organisation_id=org.id,
            commitment_amount=1,
            commitment_unit="pa",
            commitment_per="week",
        )
    )
    db.session.commit()
    rows = [
        [
            "code",
            "title",
            "level",
            "host_organisation",
            "commitment_amount",
            "commitment_unit",
            "commitment_per",
        ],
        ["GSTT-LEAD", "Lead", "place", "GSTT", "1", "pa", "week"],
    ]
    assert import_file(csv_bytes(rows), "roles.csv", CLI_ACTOR).counts["roles"].unchanged == 1
    rows[1][1] = "Trust lead"
    assert import_file(csv_bytes(rows), "roles.csv", CLI_ACTOR).counts["roles"].updated == 1
    role = db.session.scalars(sa.select(LeadershipRole)).one()
    assert (role.code, role.title) == ("gstt-lead", "Trust lead")


def test_every_column_fills_a_field_of_the_api_schema() -> None:
    """The column definitions stay in step with the schemas that validate the API."""
    from sel_time.directory.records import ENTITIES

    for sheet in imports.SHEETS.values():
        fields = ENTITIES[sheet.entity].create_schema.model_fields
        for col in sheet.columns:
            assert col.target in fields, (sheet.kind, col.name)
            if fields[col.target].is_required():
                assert col.required, (sheet.kind, col.name)
