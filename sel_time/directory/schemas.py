"""The directory's request and response schemas: the one definition that validates input (API
and spreadsheet import alike) and generates the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import EmailStr, Field, field_validator, model_validator

from ..core.validation import (
    SLOT_RE,
    Code,
    Day,
    Id,
    Money,
    Name,
    OrgCode,
    Strict,
)
from ..models import (
    AbsenceKind,
    Borough,
    CommitmentUnit,
    Half,
    OrgKind,
    Period,
    Profession,
    RoleLevel,
    SessionKind,
    TeamKind,
    UserRole,
)

# -- organisations and departments -------------------------------------------------------------


class OrganisationIn(Strict):
    code: OrgCode
    name: Name
    kind: OrgKind
    borough: Borough
    auto_publish: bool = True


class OrganisationPatch(Strict):
    code: OrgCode | None = None
    name: Name | None = None
    kind: OrgKind | None = None
    borough: Borough | None = None
    auto_publish: bool | None = None


class OrganisationOut(OrganisationIn):
    id: int


class DepartmentIn(Strict):
    code: Code
    name: Name
    organisation_id: Id
    max_away: int = Field(1, ge=0, le=100, description="people who may be away in one session")


class DepartmentPatch(Strict):
    code: Code | None = None
    name: Name | None = None
    organisation_id: Id | None = None
    max_away: int | None = Field(None, ge=0, le=100)


class DepartmentOut(DepartmentIn):
    id: int


# -- people ------------------------------------------------------------------------------------


class PatternEntry(Strict):
    day: Day
    half: Half
    kind: SessionKind = SessionKind.CLINICAL


def _check_pattern(pattern: list[PatternEntry] | None) -> list[PatternEntry] | None:
    if pattern is None:
        return None
    seen: set[tuple[str, str]] = set()
    for entry in pattern:
        key = (entry.day, entry.half.value)
        if key in seen:
            raise ValueError(f"{entry.day} {entry.half.value} is listed twice")
        seen.add(key)
    return pattern


class PersonIn(Strict):
    email: EmailStr
    name: Name
    staff_number: str | None = Field(None, max_length=40)
    profession: Profession
    specialty: str | None = Field(None, max_length=100)
    staff_group: str | None = Field(
        None,
        max_length=40,
        description="rate-card key; derived from profession and band when omitted",
    )
    band: str | None = Field(None, max_length=10)
    organisation_id: Id
    department_id: Id | None = None
    fte: float = Field(1.0, gt=0, le=1.5)
    backfill_rate: Money | None = Field(None, description="GBP per hour; overrides the rate card")
    max_per_day: int | None = Field(None, ge=0, le=2)
    max_per_week: int | None = Field(None, ge=0, le=14)
    active: bool = True
    pattern: list[PatternEntry] | None = Field(
        None, description="working half-days; default Monday to Friday, all clinical"
    )

    _pattern = field_validator("pattern")(_check_pattern)


class PersonPatch(Strict):
    email: EmailStr | None = None
    name: Name | None = None
    staff_number: str | None = Field(None, max_length=40)
    profession: Profession | None = None
    specialty: str | None = Field(None, max_length=100)
    staff_group: str | None = Field(None, max_length=40)
    band: str | None = Field(None, max_length=10)
    organisation_id: Id | None = None
    department_id: Id | None = None
    fte: float | None = Field(None, gt=0, le=1.5)
    backfill_rate: Money | None = None
    max_per_day: int | None = Field(None, ge=0, le=2)
    max_per_week: int | None = Field(None, ge=0, le=14)
    active: bool | None = None
    pattern: list[PatternEntry] | None = None

    _pattern = field_validator("pattern")(_check_pattern)


class PersonOut(Strict):
    id: int
    email: str
    name: str
    staff_number: str | None
    profession: Profession
    specialty: str | None
    staff_group: str
    band: str | None
    organisation_id: int
    department_id: int | None
    fte: float
    backfill_rate: float | None
    max_per_day: int | None
    max_per_week: int | None
    active: bool
    pattern: list[PatternEntry]


class AbsenceIn(Strict):
    person_id: Id
    kind: AbsenceKind
    start_date: date
    start_half: Half = Half.AM
    end_date: date
    end_half: Half = Half.PM
    note: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _in_order(self) -> AbsenceIn:
        if (self.end_date, self.end_half != Half.AM) < (
            self.start_date,
            self.start_half != Half.AM,
        ):
            raise ValueError("end_date: ends before it starts")
        return self


class AbsencePatch(Strict):
    person_id: Id | None = None
    kind: AbsenceKind | None = None
    start_date: date | None = None
    start_half: Half | None = None
    end_date: date | None = None
    end_half: Half | None = None
    note: str | None = Field(None, max_length=500)


class AbsenceOut(AbsenceIn):
    id: int


class PreferenceIn(Strict):
    person_id: Id
    day: Day
    half: Half


class PreferencePatch(Strict):
    person_id: Id | None = None
    day: Day | None = None
    half: Half | None = None


class PreferenceOut(PreferenceIn):
    id: int


# -- roles, assignments, teams -----------------------------------------------------------------


class RoleIn(Strict):
    code: Code
    title: Name
    level: RoleLevel
    host_organisation_id: Id
    commitment_amount: float = Field(gt=0, le=200)
    commitment_unit: CommitmentUnit
    commitment_per: Period
    budget_code: str | None = Field(None, max_length=40)
    annual_budget: Money | None = None
    description: str | None = Field(None, max_length=5000)


class RolePatch(Strict):
    code: Code | None = None
    title: Name | None = None
    level: RoleLevel | None = None
    host_organisation_id: Id | None = None
    commitment_amount: float | None = Field(None, gt=0, le=200)
    commitment_unit: CommitmentUnit | None = None
    commitment_per: Period | None = None
    budget_code: str | None = Field(None, max_length=40)
    annual_budget: Money | None = None
    description: str | None = Field(None, max_length=5000)


class RoleOut(Strict):
    id: int
    code: str
    title: str
    level: RoleLevel
    host_organisation_id: int
    commitment_amount: float
    commitment_unit: CommitmentUnit
    commitment_per: Period
    budget_code: str | None
    annual_budget: float | None
    description: str | None


class AssignmentIn(Strict):
    person_id: Id
    role_id: Id
    start_date: date
    end_date: date | None = None
    share: float = Field(1.0, gt=0, le=1, description="part-time share of the role's commitment")
    commitment_amount: float | None = Field(None, gt=0, le=200)
    commitment_unit: CommitmentUnit | None = None
    commitment_per: Period | None = None

    @model_validator(mode="after")
    def _in_order(self) -> AssignmentIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date: ends before it starts")
        return self


class AssignmentPatch(Strict):
    person_id: Id | None = None
    role_id: Id | None = None
    start_date: date | None = None
    end_date: date | None = None
    share: float | None = Field(None, gt=0, le=1)
    commitment_amount: float | None = Field(None, gt=0, le=200)
    commitment_unit: CommitmentUnit | None = None
    commitment_per: Period | None = None


class AssignmentOut(Strict):
    id: int
    person_id: int
    role_id: int
    start_date: date
    end_date: date | None
    share: float
    commitment_amount: float | None
    commitment_unit: CommitmentUnit | None
    commitment_per: Period | None


def _check_slots(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    for item in value:
        if not SLOT_RE.match(item):
            raise ValueError(f'"{item}" is not a half-day like "Wed/PM"')
    if len(set(value)) != len(value):
        raise ValueError("a half-day is listed twice")
    return value


LEAD_HINT = (
    "The team's lead: a member who may ask to move the team's sessions (blank: only rota "
    "managers move them)"
)


class TeamIn(Strict):
    code: Code
    name: Name
    kind: TeamKind
    sessions_amount: int = Field(1, ge=1, le=20)
    sessions_per: Period
    quorum: int = Field(2, ge=1, le=1000)
    allowed_slots: list[str] | None = Field(None, description='half-days like "Wed/PM"')
    location: str | None = Field(None, max_length=200)
    member_ids: list[Id] = Field(default_factory=list)
    lead_person_id: Id | None = Field(None, description=LEAD_HINT)
    funding_role_id: Id | None = None
    budget_code: str | None = Field(None, max_length=40)
    annual_budget: Money | None = None

    _slots = field_validator("allowed_slots")(_check_slots)


class TeamPatch(Strict):
    code: Code | None = None
    name: Name | None = None
    kind: TeamKind | None = None
    sessions_amount: int | None = Field(None, ge=1, le=20)
    sessions_per: Period | None = None
    quorum: int | None = Field(None, ge=1, le=1000)
    allowed_slots: list[str] | None = None
    location: str | None = Field(None, max_length=200)
    member_ids: list[Id] | None = None
    lead_person_id: Id | None = Field(None, description=LEAD_HINT)
    funding_role_id: Id | None = None
    budget_code: str | None = Field(None, max_length=40)
    annual_budget: Money | None = None

    _slots = field_validator("allowed_slots")(_check_slots)


class TeamOut(Strict):
    id: int
    code: str
    name: str
    kind: TeamKind
    sessions_amount: int
    sessions_per: Period
    quorum: int
    allowed_slots: list[str] | None
    location: str | None
    member_ids: list[int]
    lead_person_id: int | None
    funding_role_id: int | None
    budget_code: str | None
    annual_budget: float | None


# -- finance and users -------------------------------------------------------------------------


class RateIn(Strict):
    staff_group: str = Field(min_length=1, max_length=40)
    label: Name
    rate_per_hour: Money
    effective_from: date
    source: str = Field(min_length=1, max_length=2000, description="where the figure comes from")


class RatePatch(Strict):
    staff_group: str | None = Field(None, min_length=1, max_length=40)
    label: Name | None = None
    rate_per_hour: Money | None = None
    effective_from: date | None = None
    source: str | None = Field(None, min_length=1, max_length=2000)


class RateOut(Strict):
    id: int
    staff_group: str
    label: str
    rate_per_hour: float
    effective_from: date
    source: str


class UserIn(Strict):
    email: EmailStr
    name: Name
    role: UserRole
    person_id: Id | None = None
    password: str | None = Field(None, min_length=10, max_length=200)
    active: bool = True


class UserPatch(Strict):
    email: EmailStr | None = None
    name: Name | None = None
    role: UserRole | None = None
    person_id: Id | None = None
    password: str | None = Field(None, min_length=10, max_length=200)
    active: bool | None = None


class UserOut(Strict):
    id: int
    email: str
    name: str
    role: UserRole
    person_id: int | None
    active: bool


class AuditOut(Strict):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
