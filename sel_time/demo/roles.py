"""The demo's leadership roles: system and place roles, organisation roles and second roles
(pure data)."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Borough, CommitmentUnit, Period, Profession
from .organisations import COUNCIL_CODES, PCN_CODES

P = Profession


@dataclass(frozen=True)
class RoleSpec:
    """A leadership role to fill: who may hold it and what it asks for."""

    key: str
    title: str
    professions: tuple[Profession, ...]
    amount: float
    unit: CommitmentUnit
    per: Period
    prefer_depts: tuple[str, ...] = ()
    prefer_orgs: tuple[str, ...] = ()
    holders: int = 1  # two holders share the role half and half
    strict: bool = False  # only holders in ``prefer_depts`` will do
    description: str | None = None


_PA, _GPS, _SES, _HRS = (
    CommitmentUnit.PA, CommitmentUnit.GP_SESSION, CommitmentUnit.SESSION, CommitmentUnit.HOURS
)
_WK, _FN, _MO = Period.WEEK, Period.FORTNIGHT, Period.MONTH
_ED_DEPTS = ("kch-ed", "gstt-ed", "lgt-ed-uhl", "lgt-ed-qeh")

SYSTEM_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("chair", "Chair, Clinical and Care Professional Leadership Council",
              (P.CONSULTANT,), 2, _PA, _WK, prefer_depts=("gstt-evelina", "kch-liver")),
    RoleSpec("nursing", "System Lead for Nursing", (P.NURSE,), 7.5, _HRS, _WK,
              prefer_depts=("icb-nursing",)),
    RoleSpec("ahp", "System Lead for Allied Health Professions", (P.AHP,), 7.5, _HRS, _WK,
              prefer_depts=("gstt-therapies", "kch-imaging"), holders=2,
              description="Job share between two AHP leads."),
    RoleSpec("pharmacy", "System Lead for Pharmacy and Medicines Optimisation",
              (P.PHARMACIST,), 1, _SES, _WK, prefer_depts=("icb-medicines",)),
    RoleSpec("social-care", "System Lead for Social Care", (P.SOCIAL_WORKER,), 16, _HRS, _MO,
              prefer_orgs=COUNCIL_CODES),
    RoleSpec("psychology", "System Lead for Psychological Professions", (P.PSYCHOLOGIST,),
              16, _HRS, _MO, prefer_depts=("slam-psychology",)),
    RoleSpec("midwifery", "System Lead for Midwifery (Local Maternity and Neonatal System)",
              (P.MIDWIFE,), 1, _SES, _WK, prefer_depts=("icb-nursing",)),
    RoleSpec("primary-care", "System Clinical Lead for Primary Care", (P.GP,), 2, _GPS, _WK,
              prefer_orgs=PCN_CODES),
    RoleSpec("uec", "System Clinical Lead for Urgent and Emergency Care", (P.CONSULTANT,),
              1, _PA, _WK, prefer_depts=_ED_DEPTS),
    RoleSpec("mental-health", "System Clinical Lead for Mental Health", (P.CONSULTANT,),
              1, _PA, _WK, prefer_depts=("slam-acp", "oxleas-amh")),
    RoleSpec("paramedic", "System Lead for Paramedic Practice", (P.PARAMEDIC,), 16, _HRS, _MO),
    RoleSpec("healthcare-science", "System Lead for Healthcare Science", (P.OTHER,),
              16, _HRS, _MO, prefer_depts=("gstt-cardio",)),
    RoleSpec("sas", "System Lead for SAS Doctors", (P.SAS_DOCTOR,), 1, _PA, _FN),
    RoleSpec("care-management", "System Lead for Care Management", (P.CARE_MANAGER,),
              8, _HRS, _MO, prefer_orgs=COUNCIL_CODES),
    RoleSpec("leadership-development", "Head of Clinical and Care Leadership Development",
              (P.OTHER,), 7.5, _HRS, _WK, prefer_depts=("icb-leadership",)),
)

_MH_DEPTS = ("slam-acp", "slam-psychology", "slam-camhs", "slam-community", "oxleas-amh",
             "oxleas-forensic")


def place_roles(borough: Borough) -> tuple[RoleSpec, ...]:
    """The five place roles of a borough's clinical and care professional leadership."""
    b = borough.value
    lead = f"{b} Clinical and Care Professional Lead for"
    return (
        RoleSpec("nursing", f"{lead} Nursing", (P.NURSE,), 7.5, _HRS, _WK,
                  holders=2 if borough == Borough.SOUTHWARK else 1),
        RoleSpec("ahp", f"{lead} Allied Health Professions", (P.AHP,), 1, _SES, _WK),
        RoleSpec("social-care", f"{lead} Adult Social Care", (P.SOCIAL_WORKER,), 1, _SES, _WK,
                  prefer_orgs=COUNCIL_CODES),
        RoleSpec("primary-care", f"{lead} Primary Care", (P.GP,), 2, _GPS, _WK),
        RoleSpec("mental-health", f"{lead} Mental Health",
                  (P.PSYCHOLOGIST, P.CONSULTANT, P.NURSE), 1.5, _PA, _WK,
                  prefer_depts=_MH_DEPTS, strict=True),
    )


# Organisation-level roles for leaders not holding one of the above: (title, amount, unit, per).
OrgRole = tuple[str, float, CommitmentUnit, Period]
ORG_ROLES: dict[Profession, tuple[OrgRole, ...]] = {
    P.CONSULTANT: (
        ("Clinical Director, {dept}", 2, _PA, _WK),
        ("Clinical Lead for Quality Improvement, {dept}", 1, _PA, _WK),
        ("Education Lead, {dept}", 1, _PA, _FN),
        ("Patient Safety Lead, {dept}", 1, _PA, _WK),
    ),
    P.SAS_DOCTOR: (
        ("SAS Tutor, {org}", 1, _PA, _WK),
        ("Clinical Governance Lead, {dept}", 1, _PA, _FN),
    ),
    P.GP: (
        ("Clinical Lead for Frailty, {org}", 1, _GPS, _WK),
        ("Clinical Lead for Long-term Conditions, {org}", 4, _GPS, _MO),
        ("Clinical Lead for Health Inequalities, {org}", 1, _GPS, _FN),
        ("Clinical Lead for Children and Young People, {org}", 2, _GPS, _MO),
    ),
    P.NURSE: (
        ("Lead Nurse for Quality Improvement, {dept}", 16, _HRS, _MO),
        ("Practice Development Lead, {dept}", 7.5, _HRS, _WK),
        ("Lead Nurse for Patient Experience, {dept}", 8, _HRS, _MO),
        ("Safeguarding Lead, {dept}", 4, _HRS, _WK),
    ),
    P.MIDWIFE: (
        ("Lead Midwife for Continuity of Carer, {org}", 1, _SES, _WK),
        ("Professional Midwifery Advocate Lead, {org}", 16, _HRS, _MO),
        ("Lead Midwife for Education, {org}", 8, _HRS, _MO),
    ),
    P.AHP: (
        ("Professional Lead for {specialty}, {org}", 1, _SES, _WK),
        ("AHP Research Lead, {org}", 8, _HRS, _MO),
        ("Practice Education Lead for {specialty}, {org}", 2, _SES, _MO),
    ),
    P.PHARMACIST: (
        ("Medication Safety Officer, {org}", 1, _SES, _WK),
        ("Lead Pharmacist for Antimicrobial Stewardship, {org}", 16, _HRS, _MO),
        ("Lead Clinical Pharmacist, {org}", 2, _SES, _MO),
    ),
    P.PSYCHOLOGIST: (
        ("Lead Psychologist, {dept}", 1, _SES, _WK),
        ("Staff Wellbeing Lead, {org}", 8, _HRS, _MO),
    ),
    P.SOCIAL_WORKER: (
        ("Practice Educator Lead, {org}", 16, _HRS, _MO),
        ("Safeguarding Adults Practice Lead, {org}", 1, _SES, _WK),
        ("Senior Practitioner Lead, {dept}", 8, _HRS, _MO),
    ),
    P.CARE_MANAGER: (
        ("Care Management Practice Lead, {org}", 8, _HRS, _MO),
        ("Carers Lead, {org}", 8, _HRS, _MO),
        ("Strengths-based Practice Lead, {org}", 2, _SES, _MO),
    ),
    P.PARAMEDIC: (
        ("Clinical Lead for Urgent Care, {org}", 1, _SES, _WK),
        ("Paramedic Practice Lead, {org}", 2, _SES, _MO),
    ),
    P.OTHER: (
        ("{specialty} Lead, {org}", 16, _HRS, _MO),
        ("Workforce Development Lead, {org}", 8, _HRS, _MO),
    ),
}

# Second, lighter roles some leaders also hold.
SECOND_ROLES: dict[Profession, OrgRole] = {
    P.CONSULTANT: ("Educational Supervisor, {org}", 1, _PA, _MO),
    P.SAS_DOCTOR: ("SAS Advocate, {org}", 1, _PA, _MO),
    P.GP: ("GP Appraiser, {org}", 2, _GPS, _MO),
    P.NURSE: ("Freedom to Speak Up Champion, {org}", 4, _HRS, _MO),
    P.MIDWIFE: ("Freedom to Speak Up Champion, {org}", 4, _HRS, _MO),
    P.AHP: ("Quality Improvement Coach, {org}", 8, _HRS, _MO),
    P.PHARMACIST: ("Clinical Safety Officer (Digital), {org}", 8, _HRS, _MO),
    P.PSYCHOLOGIST: ("Reflective Practice Facilitator, {org}", 1, _SES, _MO),
    P.SOCIAL_WORKER: ("Quality Improvement Coach, {org}", 8, _HRS, _MO),
    P.CARE_MANAGER: ("Research Champion, {org}", 4, _HRS, _MO),
    P.PARAMEDIC: ("Quality Improvement Coach, {org}", 8, _HRS, _MO),
    P.OTHER: ("Quality Improvement Coach, {org}", 8, _HRS, _MO),
}
