"""A small, hand-costed system for the finance tests.

Four leaders in two organisations, with the rates that cost their cover:

==========  ===============================  =====================  ========================
who         organisation / department        staff group            backfill rate
==========  ===============================  =====================  ========================
Ada         King's College Hospital / ED     consultant             £120/h (rate card)
Bea         King's College Hospital /        afc_band_7 (nurse)     £41/h, £43/h from
            Community Nursing                                       1 January 2027
Cal         London Borough of Lambeth /      social_worker          £52.50/h (her own rate;
            Adult Social Care                                       the card's £48 is unused)
Dan         London Borough of Lambeth / -    afc_band_7 (nurse)     as Bea
==========  ===============================  =====================  ========================

Each holds one role (Clinical Director, Nurse Lead, Care Lead, Place Lead); Ada, Bea and Cal
form the Lambeth Place Team. Their working patterns leave each one clinical half-day a week
for their own session and Thursday morning for the team, so that a plan over the two weeks
from Monday 28 December 2026 has exactly one answer (``REAL_PATH_COSTS``).

``ledger`` adds a published roster by hand over December 2026 and January 2027 (the costs
written out below, from the rates above) and records what was delivered, through
:func:`sel_time.delivery.recording.record_delivery`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.clock import UTC
from sel_time.core.extensions import db
from sel_time.delivery.recording import record_delivery
from sel_time.models import Attendance, ProtectedSession, RosterStatus

PERIOD = {"from": "2026-12-01", "to": "2027-01-31"}
FIRST, LAST = date(2026, 12, 1), date(2027, 1, 31)
PUBLISHED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RECORDED_AT = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
# Half-day sessions and an evening session (December and January are GMT: UTC = wall clock).
TIMES = {"AM": ("09:00", "13:00"), "PM": ("13:00", "17:00"), "EVE": ("18:30", "20:00")}


# What one person's part in one session costs, in pence: the rate in force on the day × hours.
HAND_COSTS: dict[tuple[str, str], int] = {
    ("Ada", "2026-12-29/AM"): 48000,  # 4 h × £120.00
    ("Ada", "2026-12-31/AM"): 48000,  # 4 h × £120.00 (team)
    ("Ada", "2027-01-05/AM"): 48000,
    ("Ada", "2027-01-07/AM"): 48000,  # (team)
    ("Bea", "2026-12-30/AM"): 16400,  # 4 h × £41.00
    ("Bea", "2026-12-31/AM"): 16400,  # 4 h × £41.00 (team)
    ("Bea", "2027-01-06/AM"): 17200,  # 4 h × £43.00: the new rate from 1 January
    ("Bea", "2027-01-07/AM"): 17200,  # 4 h × £43.00 (team)
    ("Cal", "2026-12-30/PM"): 21000,  # 4 h × £52.50, her own rate
    ("Cal", "2026-12-31/AM"): 21000,  # (team)
    ("Cal", "2026-12-31/EVE"): 7875,  # 1.5 h × £52.50 = £78.75
    ("Cal", "2027-01-06/PM"): 21000,
    ("Cal", "2027-01-07/AM"): 21000,  # (team)
    ("Cal", "2027-01-07/EVE"): 7875,
    ("Dan", "2026-11-30/PM"): 16400,  # 4 h × £41.00
    ("Dan", "2026-12-15/PM"): 16400,
    ("Dan", "2026-12-29/PM"): 16400,
    ("Dan", "2027-01-05/PM"): 17200,  # 4 h × £43.00
    ("Dan", "2027-01-12/PM"): 17200,
    ("Dan", "2027-01-19/PM"): 17200,
    ("Dan", "2027-02-02/PM"): 17200,
}


def weekly(*halves: str, kind: str = "clinical") -> list[dict[str, str]]:
    """``weekly("Tue/AM", "Thu/AM")`` → pattern entries."""
    return [{"day": h.split("/")[0], "half": h.split("/")[1], "kind": kind} for h in halves]


@dataclass
class Directory:
    kch: int
    lambeth: int
    ed: int
    community: int
    social_care: int
    ada: int
    bea: int
    cal: int
    dan: int
    roles: dict[str, int]  # title → role id
    assignments: dict[str, int]  # person name → assignment id
    team: int


@dataclass
class Ledger:
    directory: Directory
    attendances: dict[str, int] = field(default_factory=dict)  # "S4-Ada" → attendance id


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "SOLVER_TIME_LIMIT": 5.0, "SOLVER_WORKERS": 2}


@pytest.fixture()
def directory(app: Flask, make: Callable[..., Any]) -> Directory:
    kch = make("organisations", code="kch", name="King's College Hospital", kind="acute_trust",
               borough="Southwark")
    lbl = make("organisations", code="lbl", name="London Borough of Lambeth",
               kind="local_authority", borough="Lambeth")
    ed = make("departments", organisation_id=kch.id, code="kch-ed", name="Emergency Department")
    community = make("departments", organisation_id=kch.id, code="kch-cn", name="Community Nursing")
    social_care = make("departments", organisation_id=lbl.id, code="lbl-asc",
                       name="Adult Social Care")
    for group, label, gbp, since in (
            ("consultant", "Consultant", "120.00", "2025-04-01"),
            ("afc_band_7", "Band 7", "41.00", "2025-04-01"),
            ("afc_band_7", "Band 7", "43.00", "2027-01-01"),  # the mid-period change
            ("social_worker", "Social worker", "48.00", "2025-04-01")):
        make("rates", staff_group=group, label=label, rate_per_hour=gbp, effective_from=since,
             source="finance test figures")
    team_slot = "Thu/AM"
    ada = make("people", organisation_id=kch.id, department_id=ed.id, name="Ada",
               profession="consultant",
               band=None, pattern=weekly("Tue/AM", team_slot))
    bea = make("people", organisation_id=kch.id, department_id=community.id, name="Bea",
               profession="nurse", band="7", pattern=weekly("Wed/AM", team_slot))
    cal = make("people", organisation_id=lbl.id, department_id=social_care.id, name="Cal",
               profession="social_worker", band=None, backfill_rate="52.50",
               pattern=weekly("Wed/PM", team_slot))
    dan = make("people", organisation_id=lbl.id, name="Dan", profession="nurse", band="7",
               pattern=weekly("Tue/PM"))
    roles, assignments = {}, {}
    for person, title, host, code, budget in (
            (ada, "Clinical Director", kch, "KCH-CD", "36500.00"),  # £100 a day in 2026/27
            (bea, "Nurse Lead", kch, "KCH-NL", "7300.00"),  # £20 a day
            (cal, "Care Lead", lbl, "LBL-CL", "1000.00"),  # £1000 × days / 365
            (dan, "Place Lead", lbl, None, None)):  # no budget, no budget code
        role = make("roles", host_organisation_id=host.id, title=title, budget_code=code,
                    annual_budget=budget, commitment_amount=1, commitment_unit="session",
                    commitment_per="week")
        roles[title] = role.id
        assignments[person.name] = make("assignments", person_id=person.id, role_id=role.id,
                                        start_date="2026-04-01").id
    team = make("teams", code="lpt", name="Lambeth Place Team", sessions_amount=1,
                sessions_per="week", quorum=3, allowed_slots=[team_slot], budget_code="LPT",
                annual_budget="1000.00", member_ids=[ada.id, bea.id, cal.id])
    return Directory(kch.id, lbl.id, ed.id, community.id, social_care.id, ada.id, bea.id, cal.id,
                     dan.id, roles, assignments, team.id)


def publish_by_hand(slot: str, attendees: dict[int, int], *, assignment: int | None = None,
                    person: int | None = None, team: int | None = None,
                    status: RosterStatus = RosterStatus.CONFIRMED) -> ProtectedSession:
    """A published session in ``slot`` ("2026-12-29/AM") with person id → cost in pence."""
    day, half = slot.split("/")
    start, end = (datetime.fromisoformat(f"{day}T{t}").replace(tzinfo=UTC) for t in TIMES[half])
    session = ProtectedSession(
        uid=f"{slot}-{assignment or 0}-{team or 0}-{status.value}@finance-test", person_id=person,
        assignment_id=assignment, team_id=team, slot=slot, start_at=start, end_at=end,
        status=status, sequence=0, published_at=PUBLISHED_AT, last_modified=PUBLISHED_AT,
        attendances=[Attendance(person_id=pid, cost_pence=cost) for pid, cost in attendees.items()])
    db.session.add(session)
    db.session.flush()
    return session


@pytest.fixture()
def ledger(directory: Directory) -> Ledger:
    """The published roster of December 2026 and January 2027, and what was delivered.

    Costs are ``HAND_COSTS``: Ada 48000 (4 h × £120); Bea and Dan 16400 in December
    (4 h × £41) and 17200 in January (4 h × £43); Cal 21000 (4 h × £52.50) and 7875 for an
    evening session (1.5 h × £52.50).
    """
    d = directory
    led = Ledger(d)
    a, b, c, n = d.ada, d.bea, d.cal, d.dan
    asg = {who: d.assignments[who] for who in ("Ada", "Bea", "Cal", "Dan")}

    ids = {"Ada": a, "Bea": b, "Cal": c, "Dan": n}

    def individual(name: str, who: str, slot: str,
                   status: RosterStatus = RosterStatus.CONFIRMED) -> None:
        s = publish_by_hand(slot, {ids[who]: HAND_COSTS[(who, slot)]}, assignment=asg[who],
                            person=ids[who], status=status)
        led.attendances[name] = s.attendances[0].id

    def team(name: str, slot: str) -> None:
        s = publish_by_hand(slot, {ids[w]: HAND_COSTS[(w, slot)] for w in ("Ada", "Bea", "Cal")},
                            team=d.team)
        by_person = {att.person_id: att.id for att in s.attendances}
        for who in ("Ada", "Bea", "Cal"):
            led.attendances[f"{name}-{who}"] = by_person[ids[who]]

    # December 2026 (2026/27 Q3)
    individual("S1", "Ada", "2026-12-29/AM")
    individual("S2", "Bea", "2026-12-30/AM")
    individual("S3", "Cal", "2026-12-31/EVE")
    team("S4", "2026-12-31/AM")
    individual("S5", "Dan", "2026-12-15/PM")
    # January 2027 (2026/27 Q4): Bea's and Dan's rate is now £43
    individual("S6", "Ada", "2027-01-05/AM")
    individual("S7", "Bea", "2027-01-06/AM")
    individual("S8", "Cal", "2027-01-07/EVE")
    team("S9", "2027-01-07/AM")
    individual("S10", "Dan", "2027-01-12/PM")
    # Never counted: a session removed from the roster, and sessions outside the period.
    individual("cancelled", "Dan", "2027-01-19/PM", RosterStatus.CANCELLED)
    individual("outside-before", "Dan", "2026-11-30/PM")
    individual("outside-after", "Dan", "2027-02-02/PM")

    outcomes = {
        "S1": ("taken", None), "S2": ("partial", 0.5), "S3": ("partial", 0.3),
        "S4-Ada": ("taken", None), "S4-Bea": ("taken", None),
        "S4-Cal": ("lost_clinical_pressure", None),
        "S5": ("lost_sickness", None),
        "S6": ("partial", 0.25), "S7": ("taken", None), "S8": ("partial", 0.25),
        # S9-Ada: never recorded, so not delivered
        "S9-Bea": ("partial", 0.5), "S9-Cal": ("taken", None),
        "S10": ("taken", None), "outside-before": ("taken", None), "outside-after": ("taken", None),
    }
    for name, (outcome, fraction) in outcomes.items():
        now = RECORDED_AT if name != "outside-after" else datetime(2027, 2, 3, tzinfo=UTC)
        record_delivery(db.session.get(Attendance, led.attendances[name]), outcome, fraction, None,
                        CLI_ACTOR, now=now)
    db.session.commit()
    return led
