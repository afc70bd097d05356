"""The small worlds the feature tests plan, publish and refresh, built in one place.

Each is one trust with an Emergency Department that lets one person away at a time, a few
leaders with a weekly pattern and a role each, and a leadership team that meets on Thursday
afternoons; they differ only in the details each feature needs:

- :func:`planning_world` (tests/plans and the tests built on them): three leaders, a rate
  change in the middle of the horizon and a week of leave, over the two weeks from Monday
  26 April 2027 (Monday 3 May is the Early May bank holiday).
- :func:`nightly_world` (tests/nightly, the fault tests, privacy): four leaders with e-mail
  addresses, one who works Mondays and Fridays only, and a team that meets once a month.
- :func:`published_world` (the access, audit, feed-security and fuzzing tests): two leaders
  with leader accounts and feed links, a plan solved, published and partly in the past.

:class:`WorldBuilder` makes the records, in the order given, through a ``create(entity,
**fields)`` callable: the ``make`` fixture (with its defaults) or :func:`create_with`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db

Create = Callable[..., Any]


def weekdays(
    *days: str, kind: str = "clinical", halves: tuple[str, ...] = ("AM", "PM")
) -> list[dict[str, str]]:
    """A working pattern: each of ``days`` × ``halves`` of one kind."""
    return [{"day": d, "half": h, "kind": kind} for d in days for h in halves]


def create_with(session_commit: bool = True) -> Create:
    """``create("people", **fields)`` through the records service, committed (no defaults)."""
    from sel_time.directory import records

    def _create(entity: str, **data: Any) -> Any:
        obj = records.create(records.ENTITIES[entity], data, CLI_ACTOR)
        if session_commit:
            db.session.commit()
        return obj

    return _create


@dataclass
class WorldBuilder:
    """A trust, its Emergency Department, rates, leaders, roles and a team, one call each;
    every call creates its records at once, so ids follow the order of the calls."""

    create: Create
    org: Any = None
    ed: Any = None

    def trust(self, code: str, name: str, **fields: Any) -> WorldBuilder:
        self.org = self.create("organisations", code=code, name=name, **fields)
        return self

    def emergency_department(self, code: str) -> WorldBuilder:
        self.ed = self.create(
            "departments",
            organisation_id=self.org.id,
            code=code,
            name="Emergency Department",
            max_away=1,
        )
        return self

    def rate(
        self, staff_group: str, label: str, per_hour: str, effective_from: str
    ) -> WorldBuilder:
        self.create(
            "rates",
            staff_group=staff_group,
            label=label,
            rate_per_hour=per_hour,
            effective_from=effective_from,
            source="test figures",
        )
        return self

    def consultant_rate(self, per_hour: str, effective_from: str) -> WorldBuilder:
        return self.rate("consultant", "Consultant", per_hour, effective_from)

    def band_8c_rate(self, effective_from: str) -> WorldBuilder:
        return self.rate("afc_band_8c", "Band 8c", "80.00", effective_from)

    def person(
        self, name: str, pattern: list[dict[str, str]], *, in_ed: bool = False, **fields: Any
    ) -> Any:
        """A person of the trust (in the Emergency Department if ``in_ed``)."""
        if in_ed:
            fields["department_id"] = self.ed.id
        return self.create(
            "people", organisation_id=self.org.id, name=name, pattern=pattern, **fields
        )

    def consultant(self, name: str, pattern: list[dict[str, str]], **fields: Any) -> Any:
        """A consultant of the Emergency Department."""
        return self.person(
            name, pattern, in_ed=True, profession="consultant", band=None, **fields
        )

    def role(self, title: str, **fields: Any) -> Any:
        """A role hosted by the trust, one session a week."""
        return self.create(
            "roles",
            host_organisation_id=self.org.id,
            title=title,
            commitment_amount=1,
            commitment_unit="session",
            commitment_per="week",
            **fields,
        )

    def assign(self, person: Any, role: Any, start_date: str) -> Any:
        return self.create(
            "assignments", person_id=person.id, role_id=role.id, start_date=start_date
        )

    def leadership_team(
        self, code: str, name: str, members: list[Any], per: str = "week", **fields: Any
    ) -> Any:
        """A team of ``members`` that meets once a ``per`` on Thursday afternoons, quorum 2."""
        return self.create(
            "teams",
            code=code,
            name=name,
            sessions_amount=1,
            sessions_per=per,
            quorum=2,
            allowed_slots=["Thu/PM"],
            member_ids=[m.id for m in members],
            **fields,
        )


# -- the planning tests' world -------------------------------------------------------------

START = date(2027, 4, 26)
WEEKS = 2
END = START + timedelta(weeks=WEEKS, days=-1)
BANK_HOLIDAY = date(2027, 5, 3)
RATE_CHANGE = date(2027, 5, 1)  # consultants: £100/h before, £120/h from this Saturday


@dataclass
class PlanningWorld:
    """Ids of the records of the planning tests' small system."""

    org: int
    ed: int  # Emergency Department, max_away 1
    ada: int  # ED consultant, Wed PM non-clinical
    ben: int  # ED consultant, works Mon-Thu, own backfill rate £50/h
    cara: int  # community nurse director, no department, on leave all of week 2
    ada_role: int
    ben_role: int
    cara_role: int
    ada_assignment: int
    ben_assignment: int
    cara_assignment: int
    team: int


def planning_world(make: Create) -> PlanningWorld:
    """King's College Hospital: Ada and Ben in the ED, Cara on leave in week 2, three roles
    and a weekly leadership team (``make`` fills in the codes)."""
    w = (
        WorldBuilder(make)
        .trust("kch", "King's College Hospital")
        .emergency_department("kch-ed")
        .consultant_rate("100.00", "2027-01-01")
        .consultant_rate("120.00", RATE_CHANGE.isoformat())
        .band_8c_rate("2027-01-01")
    )
    ada = w.consultant(
        "Ada Okafor",
        weekdays("Mon", "Tue", "Wed", "Thu", "Fri", halves=("AM",))
        + weekdays("Mon", "Tue", "Thu", "Fri", halves=("PM",))
        + weekdays("Wed", kind="non_clinical", halves=("PM",)),
    )
    ben = w.consultant(
        "Ben Adeyemi", weekdays("Mon", "Tue", "Wed", "Thu"), backfill_rate="50.00"
    )
    cara = w.person(
        "Cara Mensah",
        weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
        profession="nurse",
        band="8c",
    )
    make(
        "absences", person_id=cara.id, kind="annual", start_date="2027-05-03", end_date="2027-05-07"
    )
    roles = [
        w.role(title)
        for title in ("Clinical Director", "Deputy Clinical Director", "Director of Nursing")
    ]
    assignments = [w.assign(p, r, "2027-01-01") for p, r in zip((ada, ben, cara), roles)]
    team = w.leadership_team("kch-lt", "KCH leadership team", [ada, ben, cara])
    return PlanningWorld(
        w.org.id,
        w.ed.id,
        ada.id,
        ben.id,
        cara.id,
        *(r.id for r in roles),
        *(a.id for a in assignments),
        team.id,
    )


# -- the nightly refresh's world -----------------------------------------------------------


@dataclass
class NightlyWorld:
    """Ids of the nightly tests' small system's records."""

    org: int
    ed: int
    ada: int  # ED consultant, Mon-Fri
    ben: int  # ED consultant, Mon-Thu
    cara: int  # nurse director, no department, Mon-Fri
    dev: int  # nurse, Mondays and Fridays only
    team: int

    @property
    def leaders(self) -> dict[str, int]:
        return {
            "Ada Okafor": self.ada,
            "Ben Adeyemi": self.ben,
            "Cara Mensah": self.cara,
            "Dev Patel": self.dev,
        }


def nightly_world(create: Create) -> NightlyWorld:
    """Guy's and St Thomas': four leaders with one session a week each (Dev works Mondays and
    Fridays only) and a monthly leadership team; every field given (no defaults)."""
    w = (
        WorldBuilder(create)
        .trust("gst", "Guy's and St Thomas'", kind="acute_trust", borough="Lambeth")
        .emergency_department("gst-ed")
        .consultant_rate("100.00", "2025-01-01")
        .band_8c_rate("2025-01-01")
    )
    ada = w.consultant(
        "Ada Okafor", weekdays("Mon", "Tue", "Wed", "Thu", "Fri"), email="ada@nhs.net"
    )
    ben = w.consultant("Ben Adeyemi", weekdays("Mon", "Tue", "Wed", "Thu"), email="ben@nhs.net")
    cara = w.person(
        "Cara Mensah",
        weekdays("Mon", "Tue", "Wed", "Thu", "Fri"),
        email="cara@nhs.net",
        profession="nurse",
        band="8c",
    )
    dev = w.person(
        "Dev Patel", weekdays("Mon", "Fri"), email="dev@nhs.net", profession="nurse", band="8c"
    )
    for n, p in enumerate((ada, ben, cara, dev), 1):
        role = w.role(f"Clinical Lead {n}", code=f"role-{n}", level="place")
        w.assign(p, role, "2025-01-01")
    team = w.leadership_team(
        "gst-lt", "GSTT leadership team", [ada, ben, cara], per="month", kind="leadership_team"
    )
    return NightlyWorld(w.org.id, w.ed.id, ada.id, ben.id, cara.id, dev.id, team.id)


# -- a published world with accounts of every role -----------------------------------------


@dataclass
class PublishedWorld:
    """Ids and API headers of the small published system."""

    org: int
    dept: int
    ada: int  # leader "me"
    ben: int  # leader "other"
    ada_assignment: int
    ben_assignment: int
    team: int
    plan: int
    ada_attendance: int  # in the past: recordable
    ben_attendance: int
    headers: dict[str, dict[str, str]]  # role (and "leader_other") -> Authorization header
    users: dict[str, int]
    feed_secrets: dict[str, str] = field(default_factory=dict)  # "ada"/"ben" -> feed secret
    feed_ids: dict[str, int] = field(default_factory=dict)


def published_world(make: Create) -> PublishedWorld:
    """King's College Hospital with Ada and Ben in the ED, planned over the planning world's
    horizon and published; a user of every role (``<role>@hardening.test``, and
    ``leader_other`` for Ben) with an API token; each leader's first attendance moved two
    days into the past so that delivery can be recorded; a feed link per leader."""
    import sqlalchemy as sa

    from sel_time.core.audit import Actor
    from sel_time.core.auth import create_api_token
    from sel_time.core.clock import now_utc
    from sel_time.feeds.tokens import issue_token
    from sel_time.models import Attendance, FeedKind, ProtectedSession, User, UserRole
    from sel_time.plans.planning import request_plan, run_plan
    from sel_time.plans.publishing import publish

    w = (
        WorldBuilder(make)
        .trust("kch", "King's College Hospital")
        .emergency_department("kch-ed")
        .consultant_rate("100.00", "2027-01-01")
    )
    ada = w.consultant(
        "Ada Okafor", weekdays("Mon", "Tue", "Wed", "Thu", "Fri"), email="ada@nhs.net"
    )
    ben = w.consultant("Ben Adeyemi", weekdays("Mon", "Tue", "Wed", "Thu"), email="ben@nhs.net")
    roles = [w.role(t) for t in ("Clinical Director", "Deputy Clinical Director")]
    a_asg, b_asg = (w.assign(p, r, "2027-01-01") for p, r in zip((ada, ben), roles))
    team = w.leadership_team("kch-lt", "KCH leadership team", [ada, ben])
    plan = request_plan(START, WEEKS, "system", 5.0, CLI_ACTOR)
    db.session.commit()
    plan = run_plan(plan.id)
    publish(plan.id, CLI_ACTOR)
    db.session.commit()

    headers: dict[str, dict[str, str]] = {}
    users: dict[str, int] = {}
    for key, role, person in [
        ("admin", "admin", None),
        ("rota_manager", "rota_manager", None),
        ("finance", "finance", None),
        ("leader", "leader", ada.id),
        ("leader_other", "leader", ben.id),
    ]:
        user = User(email=f"{key}@hardening.test", name=key, role=UserRole(role), person_id=person)
        db.session.add(user)
        db.session.flush()
        _, token = create_api_token(user, "test")
        headers[key] = {"Authorization": f"Bearer {token}"}
        users[key] = user.id
    db.session.commit()

    def attendance_of(person_id: int) -> Attendance | None:
        return db.session.scalars(
            sa.select(Attendance)
            .join(ProtectedSession)
            .where(Attendance.person_id == person_id)
            .order_by(ProtectedSession.start_at)
        ).first()

    ada_att, ben_att = attendance_of(ada.id), attendance_of(ben.id)
    assert ada_att is not None and ben_att is not None, "the plan rostered nobody"
    for att in (ada_att, ben_att):  # put the session in the past so delivery can be recorded
        s = att.session
        length = s.end_at - s.start_at
        s.start_at = now_utc() - timedelta(days=2)  # recent: its one-click link still works
        s.end_at = s.start_at + length
    db.session.commit()

    out = PublishedWorld(
        w.org.id,
        w.ed.id,
        ada.id,
        ben.id,
        a_asg.id,
        b_asg.id,
        team.id,
        plan.id,
        ada_att.id,
        ben_att.id,
        headers,
        users,
    )
    for name, key in (("ada", "leader"), ("ben", "leader_other")):
        user = db.session.get(User, users[key])
        assert user is not None
        row, secret = issue_token(user, FeedKind.PERSON, user.person_id, Actor.for_user(user))
        out.feed_secrets[name], out.feed_ids[name] = secret, row.id
    db.session.commit()
    return out
