"""A deterministic south-east-London demo system.

:func:`load_demo` adds the ICB, its real partner organisations (acute, mental health and
community trusts, the six borough councils, a handful of primary care networks with generic
names), their services with service-cover limits, about 200 fictional leaders across every
profession, their working patterns, leave and fixed commitments over the 16 weeks from
``start``, leadership roles with budgets, teams, demo user accounts and the default rate card.

The same seed always gives the same data: every random choice comes from one
``random.Random(seed)`` and nothing reads the clock. The data are sized so that most
commitments can be met: every service's weekly demand for protected time stays well inside
what its cover limit allows, and every team has a quorum of members who work in its slots.

Names and email addresses are generated and belong to no real person.
"""
from __future__ import annotations

import logging
import math
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import Conflict
from .models import (
    Absence,
    AbsenceKind,
    AvoidPreference,
    Borough,
    CommitmentUnit,
    Department,
    Half,
    LeadershipRole,
    Organisation,
    OrgKind,
    PatternSession,
    Period,
    Person,
    Profession,
    RoleAssignment,
    RoleLevel,
    SessionKind,
    Team,
    TeamKind,
    User,
    UserRole,
)
from .rate_card import default_rate_card, load_default_rate_card, staff_group_for

log = logging.getLogger(__name__)

DEFAULT_SEED = 2026
#: The first Monday of the demo horizon unless another is given.
DEFAULT_START = date(2026, 11, 30)
#: How far ahead of ``start`` leave and fixed commitments are generated.
HORIZON_WEEKS = 16
ICB_CODE = "SEL-ICB"

P = Profession
AM, PM = Half.AM, Half.PM
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")

# Hours in one unit of commitment, and periods of each kind in a year (for budgets).
UNIT_HOURS = {
    CommitmentUnit.PA: 4.0,
    CommitmentUnit.GP_SESSION: 25 / 6,
    CommitmentUnit.SESSION: 4.0,
    CommitmentUnit.HOURS: 1.0,
}
# Half-day sessions in one unit: a GP session is a half-day session, not 4/4.17 of one.
UNIT_SESSIONS = {
    CommitmentUnit.PA: 1.0,
    CommitmentUnit.GP_SESSION: 1.0,
    CommitmentUnit.SESSION: 1.0,
    CommitmentUnit.HOURS: 0.25,
}
PERIOD_WEEKS = {Period.WEEK: 1.0, Period.FORTNIGHT: 2.0, Period.MONTH: 52 / 12}
PERIODS_PER_YEAR = {Period.WEEK: 46, Period.FORTNIGHT: 23, Period.MONTH: 12}


def sessions_per_week(
    amount: float, unit: CommitmentUnit, per: Period, share: float = 1.0
) -> float:
    """Half-day sessions a week a commitment asks for (a rough gauge used to size the demo)."""
    return amount * UNIT_SESSIONS[unit] * share / PERIOD_WEEKS[per]


# --------------------------------------------------------------------------------------------
# Organisations and services
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Org:
    code: str
    name: str
    kind: OrgKind
    borough: Borough
    domain: str


@dataclass(frozen=True)
class _Dept:
    code: str
    org: str
    name: str
    max_away: int
    seats: tuple[str, ...]  # "profession[/band][:specialty]*count"
    borough: Borough | None = None  # where its people work, if not the organisation's borough
    non_clinical: bool = False  # nobody here needs backfill (ICB staff)
    on_call: bool = False  # doctors here carry a fortnightly on-call day
    lists: str | None = None  # consultants here have a weekly fixed list (theatre, cath lab)


_COUNCIL = {
    Borough.BEXLEY: ("LBBX", "London Borough of Bexley", "bexley.gov.uk", "BEX"),
    Borough.BROMLEY: ("LBBR", "London Borough of Bromley", "bromley.gov.uk", "BRO"),
    Borough.GREENWICH: ("RBG", "Royal Borough of Greenwich", "royalgreenwich.gov.uk", "GRE"),
    Borough.LAMBETH: ("LBLAM", "London Borough of Lambeth", "lambeth.gov.uk", "LAM"),
    Borough.LEWISHAM: ("LBLEW", "London Borough of Lewisham", "lewisham.gov.uk", "LEW"),
    Borough.SOUTHWARK: ("LBS", "London Borough of Southwark", "southwark.gov.uk", "SWK"),
}
BOROUGHS = tuple(_COUNCIL)
BOROUGH_ABBR = {b: v[3] for b, v in _COUNCIL.items()}

# Primary care networks: generic, plausible names; (code, name, borough, CD sessions a week).
_PCNS = (
    ("PCN-NLAM", "North Lambeth PCN", Borough.LAMBETH, 2),
    ("PCN-STRM", "Streatham PCN", Borough.LAMBETH, 1),
    ("PCN-NSWK", "North Southwark PCN", Borough.SOUTHWARK, 2),
    ("PCN-PECK", "Peckham PCN", Borough.SOUTHWARK, 1),
    ("PCN-LEWC", "Lewisham Central PCN", Borough.LEWISHAM, 2),
    ("PCN-GRWW", "Greenwich West PCN", Borough.GREENWICH, 1),
    ("PCN-BECK", "Beckenham PCN", Borough.BROMLEY, 1),
    ("PCN-BXNN", "Bexley North PCN", Borough.BEXLEY, 2),
)
_PCN_EXTRA = {
    "PCN-NLAM": ("pharmacist/7*1", "paramedic/7*1"),
    "PCN-STRM": ("nurse/7:Practice nursing*1", "ahp/7:Physiotherapy*1"),
    "PCN-NSWK": ("pharmacist/7*1", "nurse/7:Practice nursing*1"),
    "PCN-PECK": ("paramedic/7*1",),
    "PCN-LEWC": ("pharmacist/7*1", "ahp/7:Physiotherapy*1"),
    "PCN-GRWW": ("paramedic/6*1", "nurse/7:Practice nursing*1"),
    "PCN-BECK": ("pharmacist/7*1",),
    "PCN-BXNN": ("nurse/7:Practice nursing*1", "pharmacist/7*1"),
}

NHS_DOMAIN = "nhs.net"

ORGS: tuple[_Org, ...] = (
    _Org(ICB_CODE, "NHS South East London Integrated Care Board", OrgKind.ICB, Borough.SYSTEM,
         NHS_DOMAIN),
    _Org("GSTT", "Guy's and St Thomas' NHS Foundation Trust", OrgKind.ACUTE_TRUST,
         Borough.SOUTHWARK, NHS_DOMAIN),
    _Org("KCH", "King's College Hospital NHS Foundation Trust", OrgKind.ACUTE_TRUST,
         Borough.LAMBETH, NHS_DOMAIN),
    _Org("LGT", "Lewisham and Greenwich NHS Trust", OrgKind.ACUTE_TRUST, Borough.LEWISHAM,
         NHS_DOMAIN),
    _Org("SLAM", "South London and Maudsley NHS Foundation Trust", OrgKind.MENTAL_HEALTH_TRUST,
         Borough.SOUTHWARK, NHS_DOMAIN),
    _Org("OXLEAS", "Oxleas NHS Foundation Trust", OrgKind.MENTAL_HEALTH_TRUST, Borough.BEXLEY,
         NHS_DOMAIN),
    _Org("BHC", "Bromley Healthcare", OrgKind.COMMUNITY_PROVIDER, Borough.BROMLEY, NHS_DOMAIN),
    *(_Org(code, name, OrgKind.LOCAL_AUTHORITY, b, dom) for b, (code, name, dom, _) in
      _COUNCIL.items()),
    *(_Org(code, name, OrgKind.PRIMARY_CARE_NETWORK, b, NHS_DOMAIN) for code, name, b, _ in _PCNS),
)
TRUST_CODES = ("GSTT", "KCH", "LGT", "SLAM", "OXLEAS", "BHC")
COUNCIL_CODES = tuple(v[0] for v in _COUNCIL.values())
PCN_CODES = tuple(p[0] for p in _PCNS)

_EM, _PSY = "Emergency medicine", "Psychiatry"
DEPTS: tuple[_Dept, ...] = (
    # NHS South East London ICB: system staff, no clinical sessions.
    _Dept("icb-nursing", ICB_CODE, "Nursing and Quality", 2,
          ("nurse/8d:Nursing leadership*1", "nurse/8c:Quality and safety*1",
           "midwife/8c:Maternity system*1"), non_clinical=True),
    _Dept("icb-medicines", ICB_CODE, "Medicines Optimisation", 1,
          ("pharmacist/8b*1", "pharmacist/8a*1"), non_clinical=True),
    _Dept("icb-leadership", ICB_CODE, "Clinical and Care Professional Leadership Office", 2,
          ("other/8c:Organisational development*1", "other/8b:Workforce development*1"),
          non_clinical=True),
    # Guy's and St Thomas'
    _Dept("gstt-ed", "GSTT", "Emergency Department, St Thomas' Hospital", 2,
          (f"consultant:{_EM}*3", f"sas_doctor:{_EM}*1", "nurse/7:Emergency nursing*1",
           "nurse/8a:Emergency nursing*1"), borough=Borough.LAMBETH, on_call=True),
    _Dept("gstt-evelina", "GSTT", "Evelina London Children's Hospital", 2,
          ("consultant:Paediatrics*3", "nurse/7:Children's nursing*1",
           "nurse/8a:Children's nursing*1", "ahp/7:Physiotherapy*1"), borough=Borough.LAMBETH),
    _Dept("gstt-maternity", "GSTT", "Maternity, St Thomas' Hospital", 2,
          ("midwife/7*2", "midwife/8a*1", "consultant:Obstetrics and gynaecology*1"),
          borough=Borough.LAMBETH, lists="Theatre list (obstetrics)"),
    _Dept("gstt-cardio", "GSTT", "Cardiovascular Services", 2,
          ("consultant:Cardiology*2", "other/7:Cardiac physiology*1"),
          lists="Cardiac catheter lab list"),
    _Dept("gstt-community", "GSTT", "Adult Community Services, Lambeth and Southwark", 2,
          ("nurse/7:District nursing*2", "nurse/8a:District nursing*1",
           "ahp/7:Occupational therapy*1", "ahp/6:Speech and language therapy*1")),
    _Dept("gstt-therapies", "GSTT", "Therapies and Imaging", 2,
          ("ahp/7:Physiotherapy*1", "ahp/8a:Dietetics*1", "ahp/7:Radiography*1",
           "ahp/8b:Radiography*1")),
    _Dept("gstt-pharmacy", "GSTT", "Pharmacy", 1, ("pharmacist/8a*1", "pharmacist/8b*1")),
    # King's College Hospital
    _Dept("kch-ed", "KCH", "Emergency Department, Denmark Hill", 2,
          (f"consultant:{_EM}*3", f"sas_doctor:{_EM}*2", "nurse/8a:Emergency nursing*1"),
          on_call=True),
    _Dept("kch-liver", "KCH", "Institute of Liver Studies", 2,
          ("consultant:Hepatology*2", "nurse/7:Liver nursing*1")),
    _Dept("kch-pruh-medicine", "KCH", "Acute Medicine, Princess Royal University Hospital", 2,
          ("consultant:Acute medicine*2", "sas_doctor:Acute medicine*1",
           "nurse/7:Acute medical nursing*1", "nurse/8a:Acute medical nursing*1"),
          borough=Borough.BROMLEY, on_call=True),
    _Dept("kch-maternity", "KCH", "Maternity, Denmark Hill", 2,
          ("midwife/7*1", "midwife/8a*1", "consultant:Obstetrics and gynaecology*1"),
          lists="Theatre list (obstetrics)"),
    _Dept("kch-neuro", "KCH", "Neurosciences", 2,
          ("consultant:Neurology*2", "ahp/7:Speech and language therapy*1",
           "ahp/7:Physiotherapy*1")),
    _Dept("kch-imaging", "KCH", "Imaging", 1,
          ("ahp/7:Radiography*1", "ahp/8a:Radiography*1", "consultant:Radiology*1"),
          lists="Interventional radiology list"),
    _Dept("kch-haematology", "KCH", "Haematology", 1,
          ("consultant:Haematology*1", "other/7:Physician associate*1")),
    _Dept("kch-pharmacy", "KCH", "Pharmacy", 1, ("pharmacist/8a*1", "pharmacist/7*1")),
    # Lewisham and Greenwich
    _Dept("lgt-ed-uhl", "LGT", "Emergency Department, University Hospital Lewisham", 2,
          (f"consultant:{_EM}*2", f"sas_doctor:{_EM}*1", "nurse/7:Emergency nursing*1",
           "paramedic/7:Emergency care practitioner*1"), on_call=True),
    _Dept("lgt-ed-qeh", "LGT", "Emergency Department, Queen Elizabeth Hospital", 2,
          (f"consultant:{_EM}*2", f"sas_doctor:{_EM}*1", "nurse/8a:Emergency nursing*1"),
          borough=Borough.GREENWICH, on_call=True),
    _Dept("lgt-maternity", "LGT", "Maternity", 2,
          ("midwife/7*1", "midwife/8b*1", "consultant:Obstetrics and gynaecology*1"),
          lists="Theatre list (obstetrics)"),
    _Dept("lgt-medicine", "LGT", "Acute and General Medicine", 2,
          ("consultant:Geriatric medicine*2", "sas_doctor:General medicine*1",
           "nurse/7:Older people's nursing*1"), on_call=True),
    _Dept("lgt-community", "LGT", "Lewisham Community Health Services", 2,
          ("nurse/7:District nursing*1", "nurse/8a:Community nursing*1",
           "ahp/7:Physiotherapy*1", "ahp/6:Podiatry*1")),
    _Dept("lgt-pharmacy", "LGT", "Pharmacy", 1,
          ("pharmacist/8a*1", "other/6:Pharmacy technician*1")),
    # South London and Maudsley
    _Dept("slam-acp", "SLAM", "Acute Care Pathway", 2,
          (f"consultant:{_PSY}*3", f"sas_doctor:{_PSY}*1", "nurse/7:Mental health nursing*1",
           "nurse/8a:Mental health nursing*1"), on_call=True),
    _Dept("slam-psychology", "SLAM", "Psychological Therapies", 2,
          ("psychologist/8a:Clinical psychology*2", "psychologist/8b:Clinical psychology*1",
           "psychologist/8c:Clinical psychology*1")),
    _Dept("slam-camhs", "SLAM", "Child and Adolescent Mental Health Services", 2,
          ("consultant:Child and adolescent psychiatry*1",
           "psychologist/8a:Clinical psychology*1", "nurse/7:Mental health nursing*1")),
    _Dept("slam-community", "SLAM", "Community Mental Health, Lambeth", 2,
          ("nurse/7:Mental health nursing*1", "ahp/7:Occupational therapy*1",
           "social_worker:Mental health social work*1",
           "psychologist/8a:Counselling psychology*1"), borough=Borough.LAMBETH),
    _Dept("slam-pharmacy", "SLAM", "Pharmacy", 1, ("pharmacist/8a:Mental health pharmacy*1",)),
    # Oxleas
    _Dept("oxleas-amh", "OXLEAS", "Adult Mental Health, Bexley and Greenwich", 2,
          (f"consultant:{_PSY}*2", "nurse/7:Mental health nursing*1",
           "psychologist/8a:Clinical psychology*1", "social_worker:Mental health social work*1"),
          on_call=True),
    _Dept("oxleas-community", "OXLEAS", "Adult Community Services, Greenwich", 2,
          ("nurse/7:District nursing*1", "nurse/8a:Community nursing*1",
           "ahp/7:Physiotherapy*1", "ahp/6:Dietetics*1"), borough=Borough.GREENWICH),
    _Dept("oxleas-forensic", "OXLEAS", "Forensic and Prison Services", 2,
          ("consultant:Forensic psychiatry*1", "psychologist/8b:Forensic psychology*1",
           "nurse/7:Mental health nursing*1")),
    _Dept("oxleas-pharmacy", "OXLEAS", "Pharmacy", 1, ("pharmacist/8a*1",)),
    # Bromley Healthcare
    _Dept("bhc-ucr", "BHC", "Urgent Community Response", 2,
          ("paramedic/7:Advanced paramedic practice*1", "paramedic/6*1",
           "nurse/7:Community nursing*1", "ahp/6:Occupational therapy*1")),
    _Dept("bhc-district-nursing", "BHC", "District Nursing", 1,
          ("nurse/6:District nursing*1", "nurse/7:District nursing*1")),
    _Dept("bhc-childrens-therapies", "BHC", "Children's Therapies", 1,
          ("ahp/7:Speech and language therapy*1", "ahp/6:Physiotherapy*1")),
    # The six councils: adult social care; three also run a hospital discharge team.
    *(_Dept(f"{code.lower()}-asc", code, "Adult Social Care", 2,
            ("social_worker:Adult social work*2", "care_manager*2",
             "ahp:Occupational therapy*1"))
      for code in COUNCIL_CODES),
    *(_Dept(f"{code.lower()}-discharge", code, "Hospital Discharge and Reablement", 1,
            ("social_worker:Hospital social work*2",))
      for code in ("LBLAM", "LBS", "LBLEW")),
    # Primary care networks: three GPs each and some additional roles.
    *(_Dept(f"{code.lower()}-clinical", code, "Clinical Team", 2,
            ("gp:General practice*3", *_PCN_EXTRA[code]))
      for code, _, _, _ in _PCNS),
)

# --------------------------------------------------------------------------------------------
# Names: plausible, diverse London names, combined at random (no real person is meant)
# --------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Amara", "Adebayo", "Chidi", "Ngozi", "Kwame", "Ama", "Kofi", "Abena", "Folake", "Tunde",
    "Oluwaseun", "Yetunde", "Emeka", "Chiamaka", "Femi", "Efua", "Priya", "Rajesh", "Anjali",
    "Sanjay", "Deepa", "Arjun", "Kavita", "Nikhil", "Farah", "Imran", "Ayesha", "Bilal",
    "Nusrat", "Tahmina", "Rahim", "Shazia", "Kiran", "Harpreet", "Gurpreet", "Thivya",
    "Sivakumar", "Mei", "Wei", "Hannah", "Oliver", "Charlotte", "James", "Emily", "Thomas",
    "Sophie", "Daniel", "Rebecca", "Matthew", "Lucy", "George", "Grace", "Samuel", "Eleanor",
    "William", "Jessica", "Harry", "Chloe", "Joseph", "Megan", "Ruth", "David", "Sarah",
    "Michael", "Catherine", "Patrick", "Siobhan", "Ciaran", "Aoife", "Niamh", "Rhys", "Cerys",
    "Iain", "Morag", "Marta", "Piotr", "Agnieszka", "Tomasz", "Ioana", "Andrei", "Elena",
    "Mehmet", "Elif", "Ayse", "Hodan", "Abdi", "Fartun", "Ana", "Joao", "Ines", "Carlos",
    "Lucia", "Sofia", "Nikos", "Eleni", "Maria", "Maricel", "Jocelyn", "Rowena", "Camila",
    "Mateo", "Tariq", "Yasmin", "Nadia", "Leila", "Omar", "Zara", "Marcus", "Jermaine",
    "Tanisha", "Shanice", "Delroy", "Claudette", "Winston", "Beverley", "Trevor", "Hyacinth",
    "Duc", "Linh", "Yuki", "Kenji", "Rosa", "Isaac", "Miriam", "Naomi", "Reuben", "Esther",
)
LAST_NAMES = (
    "Okafor", "Adeyemi", "Mensah", "Boateng", "Owusu", "Asante", "Okonkwo", "Oyelaran",
    "Nwosu", "Eze", "Osei", "Adebayo", "Patel", "Shah", "Sharma", "Gupta", "Kaur", "Singh",
    "Khan", "Ahmed", "Hussain", "Rahman", "Begum", "Chowdhury", "Iqbal", "Sivarajah",
    "Nadarajah", "Perera", "Fernando", "Chen", "Wong", "Li", "Zhang", "Nguyen", "Tran", "Smith",
    "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Clarke", "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward",
    "Morris", "King", "Baker", "Murphy", "O'Brien", "O'Connor", "Kelly", "Byrne", "Walsh",
    "MacDonald", "Campbell", "Stewart", "Lewis", "Morgan", "Kowalski", "Nowak", "Wiśniewska",
    "Popescu", "Ionescu", "Yilmaz", "Demir", "Kaya", "Ali", "Mohamed", "Farah", "Warsame",
    "Silva", "Santos", "Pereira", "Costa", "Rodriguez", "Garcia", "Papadopoulos", "Georgiou",
    "Reyes", "Cruz", "Bautista", "Francis", "Grant", "Bailey", "Robinson", "Brown-Mensah",
    "Sato", "Tanaka", "Levy", "Cohen", "Achterberg", "Lindqvist", "Okoro", "Danso",
)


def _email_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z-]", "", ascii_text.lower())


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RoleSpec:
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

SYSTEM_ROLES: tuple[_RoleSpec, ...] = (
    _RoleSpec("chair", "Chair, Clinical and Care Professional Leadership Council",
              (P.CONSULTANT,), 2, _PA, _WK, prefer_depts=("gstt-evelina", "kch-liver")),
    _RoleSpec("nursing", "System Lead for Nursing", (P.NURSE,), 7.5, _HRS, _WK,
              prefer_depts=("icb-nursing",)),
    _RoleSpec("ahp", "System Lead for Allied Health Professions", (P.AHP,), 7.5, _HRS, _WK,
              prefer_depts=("gstt-therapies", "kch-imaging"), holders=2,
              description="Job share between two AHP leads."),
    _RoleSpec("pharmacy", "System Lead for Pharmacy and Medicines Optimisation",
              (P.PHARMACIST,), 1, _SES, _WK, prefer_depts=("icb-medicines",)),
    _RoleSpec("social-care", "System Lead for Social Care", (P.SOCIAL_WORKER,), 16, _HRS, _MO,
              prefer_orgs=COUNCIL_CODES),
    _RoleSpec("psychology", "System Lead for Psychological Professions", (P.PSYCHOLOGIST,),
              16, _HRS, _MO, prefer_depts=("slam-psychology",)),
    _RoleSpec("midwifery", "System Lead for Midwifery (Local Maternity and Neonatal System)",
              (P.MIDWIFE,), 1, _SES, _WK, prefer_depts=("icb-nursing",)),
    _RoleSpec("primary-care", "System Clinical Lead for Primary Care", (P.GP,), 2, _GPS, _WK,
              prefer_orgs=PCN_CODES),
    _RoleSpec("uec", "System Clinical Lead for Urgent and Emergency Care", (P.CONSULTANT,),
              1, _PA, _WK, prefer_depts=_ED_DEPTS),
    _RoleSpec("mental-health", "System Clinical Lead for Mental Health", (P.CONSULTANT,),
              1, _PA, _WK, prefer_depts=("slam-acp", "oxleas-amh")),
    _RoleSpec("paramedic", "System Lead for Paramedic Practice", (P.PARAMEDIC,), 16, _HRS, _MO),
    _RoleSpec("healthcare-science", "System Lead for Healthcare Science", (P.OTHER,),
              16, _HRS, _MO, prefer_depts=("gstt-cardio",)),
    _RoleSpec("sas", "System Lead for SAS Doctors", (P.SAS_DOCTOR,), 1, _PA, _FN),
    _RoleSpec("care-management", "System Lead for Care Management", (P.CARE_MANAGER,),
              8, _HRS, _MO, prefer_orgs=COUNCIL_CODES),
    _RoleSpec("leadership-development", "Head of Clinical and Care Leadership Development",
              (P.OTHER,), 7.5, _HRS, _WK, prefer_depts=("icb-leadership",)),
)

_MH_DEPTS = ("slam-acp", "slam-psychology", "slam-camhs", "slam-community", "oxleas-amh",
             "oxleas-forensic")


def _place_roles(borough: Borough) -> tuple[_RoleSpec, ...]:
    b = borough.value
    lead = f"{b} Clinical and Care Professional Lead for"
    return (
        _RoleSpec("nursing", f"{lead} Nursing", (P.NURSE,), 7.5, _HRS, _WK,
                  holders=2 if borough == Borough.SOUTHWARK else 1),
        _RoleSpec("ahp", f"{lead} Allied Health Professions", (P.AHP,), 1, _SES, _WK),
        _RoleSpec("social-care", f"{lead} Adult Social Care", (P.SOCIAL_WORKER,), 1, _SES, _WK,
                  prefer_orgs=COUNCIL_CODES),
        _RoleSpec("primary-care", f"{lead} Primary Care", (P.GP,), 2, _GPS, _WK),
        _RoleSpec("mental-health", f"{lead} Mental Health",
                  (P.PSYCHOLOGIST, P.CONSULTANT, P.NURSE), 1.5, _PA, _WK,
                  prefer_depts=_MH_DEPTS, strict=True),
    )


# Organisation-level roles for leaders not holding one of the above: (title, amount, unit, per).
_OrgRole = tuple[str, float, CommitmentUnit, Period]
ORG_ROLES: dict[Profession, tuple[_OrgRole, ...]] = {
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
SECOND_ROLES: dict[Profession, _OrgRole] = {
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

# --------------------------------------------------------------------------------------------
# Demo accounts
# --------------------------------------------------------------------------------------------

DEMO_ACCOUNTS = (
    ("admin@sel-time.demo", "Demo Administrator", UserRole.ADMIN),
    ("rota@sel-time.demo", "Demo Rota Manager", UserRole.ROTA_MANAGER),
    ("finance@sel-time.demo", "Demo Finance Officer", UserRole.FINANCE),
)
#: The demo leader account belongs to the clinical director of this PCN.
LEADER_ACCOUNT_PCN = "PCN-NLAM"


@dataclass(frozen=True)
class DemoAccount:
    """A demo user: passwords are set by the caller (``password_hash`` is left empty)."""

    email: str
    role: UserRole
    person_email: str | None = None


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`load_demo` added."""

    seed: int
    start: date
    organisations: int
    departments: int
    people: int
    pattern_sessions: int
    absences: int
    avoid_preferences: int
    roles: int
    assignments: int
    teams: int
    team_memberships: int
    users: int
    rate_card_entries: int  # rows of the default card added (0 if it was already there)
    accounts: tuple[DemoAccount, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return (
            f"{self.people} leaders in {self.organisations} organisations "
            f"({self.departments} services), {self.roles} roles held in {self.assignments} "
            f"assignments, {self.teams} teams ({self.team_memberships} memberships), "
            f"{self.absences} leave and fixed commitments from {self.start.isoformat()}, "
            f"{self.users} demo accounts, {self.rate_card_entries} rate card rows added "
            f"(seed {self.seed})"
        )


class DemoAlreadyLoaded(Conflict):
    """The demo organisations are already in the database."""

    def __init__(self) -> None:
        super().__init__(
            "The demo data set is already loaded (organisation "
            f"{ICB_CODE} exists); load it into an empty database."
        )


def monday_on_or_after(day: date) -> date:
    """The Monday on or after ``day``."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


@dataclass
class _Leader:
    person: Person
    dept: _Dept
    org: _Org
    borough: Borough  # where they work
    worked: list[tuple[int, Half]]  # (weekday, half)
    roles: int = 0
    demand: float = 0.0  # sessions a week of individual commitments and team meetings
    teams: int = 0
    busy: set[tuple[date, Half]] = field(default_factory=set)


class _Builder:
    def __init__(self, session: Session, seed: int, start: date) -> None:
        self.s = session
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.orgs: dict[str, Organisation] = {}
        self.org_specs = {o.code: o for o in ORGS}
        self.depts: dict[str, Department] = {}
        self.leaders: list[_Leader] = []
        self.by_dept: dict[str, list[_Leader]] = {}
        self.roles: list[LeadershipRole] = []
        self.role_codes: set[str] = set()
        self.assignments: list[RoleAssignment] = []
        self.holders: dict[str, list[_Leader]] = {}  # role key -> holders
        self.role_by_key: dict[str, LeadershipRole] = {}
        self.teams: list[Team] = []
        self.counts = {"patterns": 0, "absences": 0, "avoids": 0, "memberships": 0}
        self.rates = {r.staff_group: r.rate_pence_per_hour for r in default_rate_card()}

    # ---- organisations --------------------------------------------------------------------

    def organisations(self) -> None:
        for spec in ORGS:
            org = Organisation(code=spec.code, name=spec.name, kind=spec.kind,
                               borough=spec.borough)
            self.s.add(org)
            self.orgs[spec.code] = org
        for d in DEPTS:
            dept = Department(code=d.code, name=d.name, max_away=d.max_away,
                              organisation=self.orgs[d.org])
            self.s.add(dept)
            self.depts[d.code] = dept

    # ---- people -----------------------------------------------------------------------------

    def people(self) -> None:
        used_names: set[str] = set()
        n = 0
        for d in DEPTS:
            org = self.org_specs[d.org]
            for seat in d.seats:
                spec, count = seat.split("*")
                head, _, specialty = spec.partition(":")
                prof_text, _, band = head.partition("/")
                prof = Profession(prof_text)
                for _ in range(int(count)):
                    n += 1
                    while True:
                        first = self.rng.choice(FIRST_NAMES)
                        last = self.rng.choice(LAST_NAMES)
                        if f"{first} {last}" not in used_names:
                            break
                    used_names.add(f"{first} {last}")
                    self._person(n, first, last, prof, band or None, specialty or None, d, org)

    def _person(self, n: int, first: str, last: str, prof: Profession, band: str | None,
                specialty: str | None, d: _Dept, org: _Org) -> None:
        council = org.kind == OrgKind.LOCAL_AUTHORITY
        halves = self._halves(prof, d)
        worked = self._worked(halves)
        fte = round(halves / 9, 2) if prof == P.GP else halves / 10
        person = Person(
            staff_number=f"DEMO-{n:04d}",
            email=f"{_email_part(first)}.{_email_part(last)}@{org.domain}",
            name=f"{first} {last}",
            profession=prof,
            specialty=specialty,
            staff_group=staff_group_for(prof, band, council=council),
            band=band,
            organisation=self.orgs[org.code],
            department=self.depts[d.code],
            fte=min(fte, 1.0),
        )
        non_clinical = self._non_clinical(prof, worked, d)
        for weekday, half in worked:
            kind = (SessionKind.NON_CLINICAL if (weekday, half) in non_clinical
                    else SessionKind.CLINICAL)
            person.pattern.append(PatternSession(weekday=weekday, half=half, kind=kind))
            self.counts["patterns"] += 1
        self.s.add(person)
        leader = _Leader(person, d, org, d.borough or org.borough, worked)
        self.leaders.append(leader)
        self.by_dept.setdefault(d.code, []).append(leader)

    def _halves(self, prof: Profession, d: _Dept) -> int:
        """Half-days worked a week: most full time, some part time."""
        r = self.rng.random()
        if prof == P.GP:  # a full-time salaried GP works 9 sessions
            return (6, 7, 8, 9)[int(r * 4)]
        if prof in (P.CONSULTANT, P.SAS_DOCTOR) or d.non_clinical:
            return 10 if r < 0.85 else 8
        return 10 if r < 0.7 else (8 if r < 0.85 else 6)

    def _worked(self, halves: int) -> list[tuple[int, Half]]:
        days = list(range(5))
        off = self.rng.sample(days, 5 - math.ceil(halves / 2))
        on = [d for d in days if d not in off]
        worked = [(d, h) for d in on for h in (AM, PM)]
        if halves % 2:  # one afternoon off
            worked.remove((self.rng.choice(on), PM))
        return worked

    def _non_clinical(self, prof: Profession, worked: list[tuple[int, Half]],
                      d: _Dept) -> set[tuple[int, Half]]:
        if d.non_clinical:
            return set(worked)
        k = 2 if prof in (P.CONSULTANT, P.SAS_DOCTOR) else self.rng.choice((1, 1, 2))
        return set(self.rng.sample(worked, k))

    # ---- roles -----------------------------------------------------------------------------

    def _pick(self, spec: _RoleSpec, borough: Borough | None = None,
              org_codes: Sequence[str] = (), exclude: Iterable[_Leader] = ()) -> _Leader:
        """Choose a holder: the right profession, preferably in the preferred services and
        borough, preferably holding no role yet; ties broken by the seeded generator."""
        taken = [id(x) for x in exclude]
        pool = [x for x in self.leaders if x.person.profession in spec.professions
                and id(x) not in taken and x.roles < 2
                and (not org_codes or x.org.code in org_codes)
                and (not spec.strict or x.dept.code in spec.prefer_depts)]
        if not pool:
            raise RuntimeError(f"no candidate for demo role {spec.title!r}")

        def rank(x: _Leader) -> tuple[int, int, int]:
            preferred = (x.dept.code in spec.prefer_depts or x.org.code in spec.prefer_orgs)
            return (x.roles, 0 if borough is None or x.borough == borough else 1,
                    0 if preferred or not (spec.prefer_depts or spec.prefer_orgs) else 1)

        best = min(rank(x) for x in pool)
        return self.rng.choice([x for x in pool if rank(x) == best])

    def _role(self, code: str, title: str, level: RoleLevel, host: str, amount: float,
              unit: CommitmentUnit, per: Period, budget_code: str, staff_group: str,
              description: str | None = None) -> LeadershipRole:
        code = code[:60]
        base, i = code, 2
        while code in self.role_codes:
            code = f"{base[:56]}-{i}"
            i += 1
        self.role_codes.add(code)
        hours = amount * UNIT_HOURS[unit] * PERIODS_PER_YEAR[per]
        budget_gbp = round(hours * self.rates[staff_group] / 100 / 100) * 100
        role = LeadershipRole(
            code=code, title=title[:200], level=level, host_organisation=self.orgs[host],
            commitment_amount=amount, commitment_unit=unit, commitment_per=per,
            budget_code=budget_code, annual_budget_pence=budget_gbp * 100,
            description=description,
        )
        self.s.add(role)
        self.roles.append(role)
        return role

    def _since(self) -> date:
        """A start date three months to five years before the horizon (drawn the same way
        whatever ``start`` is, so a later start shifts the dates and changes nothing else)."""
        return self.start - timedelta(days=90 + self.rng.randrange(5 * 365 - 90))

    def _assign(self, leader: _Leader, role: LeadershipRole, share: float = 1.0,
                start: date | None = None, end: date | None = None) -> RoleAssignment:
        a = RoleAssignment(person=leader.person, role=role, share=share,
                           start_date=start or self._since(), end_date=end)
        self.s.add(a)
        self.assignments.append(a)
        leader.roles += 1
        leader.demand += sessions_per_week(
            role.commitment_amount, role.commitment_unit, role.commitment_per, share)
        return a

    def _fill(self, spec: _RoleSpec, key: str, code: str, title: str, level: RoleLevel,
              host: str, budget: str, borough: Borough | None = None,
              org_codes: Sequence[str] = ()) -> list[_Leader]:
        holders: list[_Leader] = []
        for _ in range(spec.holders):
            holders.append(self._pick(spec, borough, org_codes, holders))
        role = self._role(code, title, level, host, spec.amount, spec.unit, spec.per, budget,
                          holders[0].person.staff_group, spec.description)
        share = 1.0 if spec.holders == 1 else 0.5
        for h in holders:
            self._assign(h, role, share)
        self.holders[key] = holders
        self.role_by_key[key] = role
        return holders

    def leadership_roles(self) -> None:
        for spec in SYSTEM_ROLES:
            self._fill(spec, f"sys:{spec.key}", f"SEL-SYS-{spec.key.upper()}", spec.title,
                       RoleLevel.SYSTEM, ICB_CODE, "SEL-CCPL-SYS")
        for borough in BOROUGHS:
            abbr = BOROUGH_ABBR[borough]
            for spec in _place_roles(borough):
                self._fill(spec, f"place:{abbr}:{spec.key}",
                           f"SEL-{abbr}-{spec.key.upper()}", spec.title, RoleLevel.PLACE,
                           ICB_CODE, f"SEL-CCPL-{abbr}", borough=borough)
        for code, name, borough, cd_sessions in _PCNS:
            spec = _RoleSpec("cd", f"Clinical Director, {name}", (P.GP,), cd_sessions, _GPS, _WK)
            self._fill(spec, f"pcn:{code}", f"{code}-CD", spec.title, RoleLevel.NEIGHBOURHOOD,
                       code, f"{code}-DES", org_codes=(code,))
        for borough in BOROUGHS:
            council, name, _, abbr = _COUNCIL[borough]
            spec = _RoleSpec("psw", f"Principal Social Worker, {name}", (P.SOCIAL_WORKER,),
                             1, _SES, _WK)
            self._fill(spec, f"psw:{abbr}", f"{council}-PSW", spec.title,
                       RoleLevel.ORGANISATION, council, f"{council}-ASC-LDR",
                       org_codes=(council,))
        self._organisation_roles()
        self._second_roles()
        self._handovers()

    def _org_title(self, leader: _Leader, title: str) -> str:
        org = leader.org
        if org.kind == OrgKind.PRIMARY_CARE_NETWORK:
            service = org.name
        elif org.kind == OrgKind.LOCAL_AUTHORITY:
            service = f"{org.borough.value} {leader.dept.name}"
        else:
            service = leader.dept.name
        return title.format(dept=service, org=org.name,
                            specialty=leader.person.specialty or "Practice")

    def _org_role(self, leader: _Leader, template: _OrgRole, share: float = 1.0,
                  extra: Sequence[_Leader] = (), shared: bool = False) -> None:
        """Give ``leader`` (and any ``extra`` job-sharers) an organisation-level role; with
        ``shared``, a role of the same title that already exists takes another holder."""
        title, amount, unit, per = template
        org = leader.org
        text = self._org_title(leader, title)
        role = self.role_by_key.get(f"title:{text}") if shared else None
        if role is None:
            level = (RoleLevel.NEIGHBOURHOOD if org.kind == OrgKind.PRIMARY_CARE_NETWORK
                     else RoleLevel.ORGANISATION)
            role = self._role(f"{org.code}-{_slug(text.split(',')[0]).upper()}", text, level,
                              org.code, amount, unit, per, f"{org.code}-LDR",
                              leader.person.staff_group)
            self.role_by_key[f"title:{text}"] = role
        self._assign(leader, role, share)
        for other in extra:
            self._assign(other, role, share)

    def _organisation_roles(self) -> None:
        """Everyone without a role gets one in their own organisation, a title nobody holds
        yet where possible; a few job-share, and some part-timers hold theirs part time."""
        for leader in self.leaders:
            if leader.roles:
                continue
            options = list(ORG_ROLES[leader.person.profession])
            self.rng.shuffle(options)
            fresh = [t for t in options
                     if f"title:{self._org_title(leader, t[0])}" not in self.role_by_key]
            template = (fresh or options)[0]
            peers = [x for x in self.by_dept[leader.dept.code] if x is not leader
                     and not x.roles and x.person.profession == leader.person.profession]
            if peers and self.rng.random() < 0.15:
                self._org_role(leader, template, 0.5, [self.rng.choice(peers)])
            elif leader.person.fte <= 0.6 and self.rng.random() < 0.5:
                self._org_role(leader, template, 0.6)  # held part time
            else:
                self._org_role(leader, template)

    def _second_roles(self) -> None:
        """Some leaders with light commitments also hold a second, lighter role; several may
        hold the same one (three GP appraisers in one PCN hold one role)."""
        for leader in self.leaders:
            if leader.roles == 1 and leader.demand <= 1.0 and self.rng.random() < 0.3:
                self._org_role(leader, SECOND_ROLES[leader.person.profession], shared=True)

    def _handovers(self) -> None:
        """A few roles change hands during the horizon: one holder leaves on a Friday, and
        for some a successor in the same organisation starts the Monday after."""
        candidates = [a for a in self.assignments if a.role.level == RoleLevel.ORGANISATION
                      and a.share == 1.0]
        chosen = self.rng.sample(candidates, 5)
        for i, a in enumerate(chosen):
            end = self.start + timedelta(weeks=self.rng.randrange(4, 10), days=4)
            a.end_date = end
            if i % 2:
                continue
            holder = next(x for x in self.leaders if x.person is a.person)
            successors = [x for x in self.leaders if x.org is holder.org and x is not holder
                          and x.person.profession == holder.person.profession
                          and x.roles == 1 and x.demand <= 1.5]
            if successors:
                self._assign(self.rng.choice(successors), a.role,
                             start=end + timedelta(days=3))

    # ---- teams -----------------------------------------------------------------------------

    def _team(self, code: str, name: str, kind: TeamKind, members: Sequence[_Leader],
              sessions: int, per: Period, candidates: Sequence[str] | None,
              budget_code: str | None, budget_gbp: int | None = None,
              funding_role: LeadershipRole | None = None, location: str | None = None) -> None:
        uniq: list[_Leader] = []
        for m in members:
            if all(m is not u for u in uniq):
                uniq.append(m)
        slots = self._team_slots(uniq, candidates) if candidates else None
        # Quorum about 60 %, but always below what service cover lets away at once and below
        # the number of members who work in the team's best slot.
        per_dept: dict[str, int] = {}
        for m in uniq:
            per_dept[m.dept.code] = per_dept.get(m.dept.code, 0) + 1
        can_meet = sum(min(n, self.depts[d].max_away) for d, n in per_dept.items())
        if slots:
            can_meet = min(can_meet, max(self._working(uniq, slot) for slot in slots))
        quorum = max(2, min(math.ceil(0.6 * len(uniq)), can_meet - 1))
        team = Team(code=code, name=name, kind=kind, sessions_amount=sessions,
                    sessions_per=per, quorum=quorum,
                    allowed_slots=slots, location=location, budget_code=budget_code,
                    annual_budget_pence=None if budget_gbp is None else budget_gbp * 100,
                    funding_role=funding_role)
        team.members.extend(m.person for m in uniq)
        self.s.add(team)
        self.teams.append(team)
        weekly = sessions / PERIOD_WEEKS[per]
        for m in uniq:
            m.teams += 1
            m.demand += weekly
        self.counts["memberships"] += len(uniq)

    @staticmethod
    def _working(members: Sequence[_Leader], slot: str) -> int:
        """How many of ``members`` normally work the half-day ``slot`` ("Wed/PM")."""
        day, half = slot.split("/")
        key = (DAYS.index(day), Half(half))
        return sum(1 for m in members if key in m.worked)

    def _team_slots(self, members: Sequence[_Leader], candidates: Sequence[str]) -> list[str]:
        """The candidate half-day (or "Thu/AM+Thu/PM" day) most members work; ties go to the
        first."""
        best = max(candidates,
                   key=lambda c: sum(self._working(members, s) for s in c.split("+")))
        return best.split("+")

    def _free(self, pool: Sequence[_Leader], n: int, max_teams: int,
              exclude: Sequence[_Leader] = ()) -> list[_Leader]:
        """``n`` leaders from ``pool``, spread over services, with few teams and light load."""
        ok = [x for x in pool if x.teams < max_teams and x.demand <= 2.0
              and all(x is not e for e in exclude)]
        self.rng.shuffle(ok)
        ok.sort(key=lambda x: x.teams)
        out: list[_Leader] = []
        per_dept: dict[str, int] = {}
        for x in ok:
            if per_dept.get(x.dept.code, 0) >= 1:
                continue
            out.append(x)
            per_dept[x.dept.code] = per_dept.get(x.dept.code, 0) + 1
            if len(out) == n:
                break
        return out

    def build_teams(self) -> None:
        h = self.holders
        tue_thu = ("Tue/PM", "Wed/PM", "Thu/PM")
        for i, borough in enumerate(BOROUGHS):
            abbr = BOROUGH_ABBR[borough]
            members = [x for key, hs in h.items() if key.startswith(f"place:{abbr}:")
                       for x in hs]
            members += [x for code, _, b, _ in _PCNS if b == borough for x in h[f"pcn:{code}"]]
            members += h[f"psw:{abbr}"]
            self._team(f"LT-{abbr}", f"{borough.value} Clinical and Care Professional Leadership "
                       "Team", TeamKind.LEADERSHIP_TEAM, members, 1, _MO,
                       tue_thu if i % 2 == 0 else None, f"SEL-CCPL-{abbr}",
                       location=f"{borough.value} Local Care Partnership")
        council = [x for key, hs in h.items() if key.startswith("sys:")
                   and key not in ("sys:care-management", "sys:leadership-development",
                                   "sys:healthcare-science")
                   for x in hs[:1]]
        chair_role = self.role_by_key["sys:chair"]
        self._team("SEL-CCPL-COUNCIL", "SEL Clinical and Care Professional Leadership Council",
                   TeamKind.BOARD, council, 1, _MO, ("Tue/PM", "Wed/PM", "Thu/PM"),
                   "SEL-CCPL-SYS", funding_role=chair_role,
                   location="ICB offices, 160 Tooley Street")
        cds = [x for code in PCN_CODES for x in h[f"pcn:{code}"]]
        self._team("SEL-PCN-CD-FORUM", "SEL Primary Care Clinical Directors Forum",
                   TeamKind.LEADERSHIP_TEAM, cds, 1, _MO, ("Wed/PM", "Thu/PM", "Tue/PM"),
                   "SEL-CCPL-SYS")
        by_prof = self._by_profession
        ahps = h["sys:ahp"] + [x for b in BOROUGHS for x in h[f"place:{BOROUGH_ABBR[b]}:ahp"]]
        ahps += self._free(by_prof(P.AHP), 10 - len(ahps), 2, ahps)
        self._team("SEL-AHP-COUNCIL", "SEL Allied Health Professions Council",
                   TeamKind.LEADERSHIP_TEAM, ahps, 1, _MO, None, "SEL-CCPL-SYS")
        nm = h["sys:nursing"] + h["sys:midwifery"]
        nm += [x for b in BOROUGHS for x in h[f"place:{BOROUGH_ABBR[b]}:nursing"][:1]]
        nm += self._free(by_prof(P.MIDWIFE), 2, 2, nm)
        self._team("SEL-NM-GROUP", "SEL Nursing and Midwifery Leadership Group",
                   TeamKind.LEADERSHIP_TEAM, nm, 1, _MO, ("Mon/PM", "Fri/AM"), "SEL-CCPL-SYS")
        ph = h["sys:pharmacy"] + self._free(by_prof(P.PHARMACIST), 7, 2, h["sys:pharmacy"])
        self._team("SEL-PHARMACY-NETWORK", "SEL Pharmacy and Medicines Optimisation Network",
                   TeamKind.LEADERSHIP_TEAM, ph, 1, _MO, None, "SEL-CCPL-SYS")
        psw = h["sys:social-care"] + h["sys:care-management"]
        psw += [x for b in BOROUGHS for x in h[f"psw:{BOROUGH_ABBR[b]}"]]
        self._team("SEL-PSW-NETWORK", "SEL Principal Social Workers and Social Care Leads "
                   "Network", TeamKind.LEADERSHIP_TEAM, psw, 1, _MO, None, "SEL-CCPL-SYS")
        # A development cohort across professions and organisations, and learning sets.
        fellows: list[_Leader] = []
        for prof in Profession:
            fellows += self._free(by_prof(prof), 1, 1, fellows)
        self._team("SEL-FELLOWS-2026", "SEL Leadership Fellows 2026 cohort",
                   TeamKind.TRAINING_COHORT, fellows, 1, _FN, ("Thu/AM+Thu/PM", "Wed/AM+Wed/PM"),
                   "SEL-LDP-FELLOWS-2026", budget_gbp=60_000,
                   location="In person, London Bridge, and online")
        sets = ("Integrated Neighbourhood Teams", "Urgent and Emergency Care",
                "Mental Health and Wellbeing", "Children and Families")
        for i, theme in enumerate(sets):
            members = self._free(self.leaders, 6, 1)
            self._team(f"SEL-ALS-{chr(65 + i)}", f"Action Learning Set {chr(65 + i)}: {theme}",
                       TeamKind.ACTION_LEARNING_SET, members, 1, _FN if i % 2 else _MO,
                       ("Mon/PM", "Tue/AM", "Fri/AM") if i % 2 == 0 else None,
                       "SEL-LDP-ALS", budget_gbp=6_000)

    def fit_cover(self) -> None:
        """Make sure each service's weekly demand for protected time (roles and team meetings)
        stays within 60 % of what its cover limit allows, raising a limit (up to 3) if not."""
        for code, leaders in self.by_dept.items():
            dept = self.depts[code]
            asked = sum(x.demand for x in leaders)
            while asked > 0.6 * dept.max_away * 10 and dept.max_away < 3:
                dept.max_away += 1
                log.info("Demo: %s may now have %d away at once", code, dept.max_away)

    def _by_profession(self, prof: Profession) -> list[_Leader]:
        return [x for x in self.leaders if x.person.profession == prof]

    # ---- limits, rates and preferences ----------------------------------------------------------

    def limits(self) -> None:
        consultants_gps = [x for x in self.leaders if x.person.profession in (P.CONSULTANT, P.GP)]
        for x in self.rng.sample(consultants_gps, 8):
            # Internal cover at substantive cost (consultant, 2025/26 scales derived, GBP 73-97)
            # or a partner's agreed locum rate (GP).
            x.person.backfill_rate_pence = 8_500 if x.person.profession == P.CONSULTANT else 11_000
        for x in self.rng.sample(self.leaders, 8):
            x.person.max_per_week = max(3, math.ceil(x.demand) + 1)
        for x in self.rng.sample([x for x in self.leaders if x.demand <= 1.5], 5):
            x.person.max_per_day = 1
        for x in self.rng.sample(self.leaders, 15):
            for weekday, half in self.rng.sample(x.worked, self.rng.choice((1, 1, 2))):
                x.person.avoids.append(AvoidPreference(weekday=weekday, half=half))
                self.counts["avoids"] += 1

    # ---- leave and fixed commitments -----------------------------------------------------------

    def _absence(self, x: _Leader, kind: AbsenceKind, first: date, first_half: Half,
                 last: date, last_half: Half, note: str | None = None) -> bool:
        """Add leave unless it would overlap leave the person already has."""
        halves: list[tuple[date, Half]] = []
        day = first
        while day <= last:
            for half in (AM, PM):
                if (day == first and first_half == PM and half == AM) or (
                        day == last and last_half == AM and half == PM):
                    continue
                halves.append((day, half))
            day += timedelta(days=1)
        if any(k in x.busy for k in halves):
            return False
        x.busy.update(halves)
        x.person.absences.append(Absence(kind=kind, start_date=first, start_half=first_half,
                                         end_date=last, end_half=last_half, note=note))
        self.counts["absences"] += 1
        return True

    def leave(self) -> None:
        weeks = list(range(HORIZON_WEEKS))
        christmas = [w for w in weeks if self._week(w).month == 12 and self._week(w).day >= 19]
        weights = [4 if w in christmas else 1 for w in weeks]
        for x in self.leaders:
            if self.rng.random() < 0.75:  # a week of annual leave
                monday = self._week(self.rng.choices(weeks, weights)[0])
                self._absence(x, AbsenceKind.ANNUAL, monday, AM, monday + timedelta(days=4), PM)
            if self.rng.random() < 0.3:  # a long weekend
                day = self._week(self.rng.randrange(HORIZON_WEEKS)) + timedelta(
                    days=self.rng.choice((0, 4)))
                self._absence(x, AbsenceKind.ANNUAL, day, AM, day, PM)
            if self.rng.random() < 0.35:  # study leave
                for _ in range(self.rng.choice((1, 2))):
                    day = self._day()
                    half = self.rng.choice((AM, PM, None))
                    self._absence(x, AbsenceKind.STUDY, day, half or AM, day, half or PM,
                                  self.rng.choice(("Conference", "Course", "Exam revision",
                                                   "Mandatory training")))
            doctor = x.person.profession in (P.CONSULTANT, P.SAS_DOCTOR)
            if doctor and x.dept.on_call:  # on call one day a fortnight
                offset = self.rng.randrange(14)
                while offset < HORIZON_WEEKS * 7:
                    day = self.start + timedelta(days=offset)
                    if day.weekday() < 5:
                        self._absence(x, AbsenceKind.ON_CALL, day, AM, day, PM, "On call")
                    offset += 14
            if x.person.profession == P.CONSULTANT and x.dept.lists:
                clinical = [k for k in x.person.pattern if k.kind == SessionKind.CLINICAL]
                slot = self.rng.choice(clinical)
                for w in weeks:
                    day = self._week(w) + timedelta(days=slot.weekday)
                    self._absence(x, AbsenceKind.THEATRE_LIST, day, slot.half, day, slot.half,
                                  x.dept.lists)
        order = self.leaders[:]
        self.rng.shuffle(order)
        sick = jury = 0
        for x in order:  # two off sick as the horizon opens, two on jury service
            if sick < 2:
                sick += self._absence(x, AbsenceKind.SICKNESS, self.start - timedelta(days=4),
                                      AM, self.start + timedelta(days=4), PM)
            elif jury < 2:
                monday = self._week(self.rng.randrange(6, HORIZON_WEEKS - 2))
                jury += self._absence(x, AbsenceKind.OTHER, monday, AM,
                                      monday + timedelta(days=11), PM, "Jury service")

    def _week(self, w: int) -> date:
        return self.start + timedelta(weeks=w)

    def _day(self) -> date:
        return self._week(self.rng.randrange(HORIZON_WEEKS)) + timedelta(
            days=self.rng.randrange(5))

    # ---- users -------------------------------------------------------------------------------

    def users(self) -> list[DemoAccount]:
        accounts: list[DemoAccount] = []
        for email, name, role in DEMO_ACCOUNTS:
            self.s.add(User(email=email, name=name, role=role, password_hash=None))
            accounts.append(DemoAccount(email, role))
        leader = self.holders[f"pcn:{LEADER_ACCOUNT_PCN}"][0].person
        self.s.add(User(email=leader.email, name=leader.name, role=UserRole.LEADER,
                        password_hash=None, person=leader))
        accounts.append(DemoAccount(leader.email, UserRole.LEADER, leader.email))
        return accounts


def load_demo(session: Session, seed: int = DEFAULT_SEED, start: date | None = None,
              ) -> DemoSummary:
    """Add the south-east-London demo system to an empty database, flush, never commit.

    ``start`` is the first Monday of the demo horizon (default the Monday on or after
    30 November 2026); leave and fixed commitments fall in the 16 weeks from it, and role
    start and end dates are set relative to it. Raises :class:`DemoAlreadyLoaded` if the demo
    organisations are already there.
    """
    start = monday_on_or_after(start or DEFAULT_START)
    if session.scalar(sa.select(Organisation.id).where(Organisation.code == ICB_CODE)):
        raise DemoAlreadyLoaded()
    rate_rows = load_default_rate_card(session)
    b = _Builder(session, seed, start)
    b.organisations()
    b.people()
    b.leadership_roles()
    b.build_teams()
    b.fit_cover()
    b.limits()
    b.leave()
    accounts = b.users()
    session.flush()
    summary = DemoSummary(
        seed=seed,
        start=start,
        organisations=len(b.orgs),
        departments=len(b.depts),
        people=len(b.leaders),
        pattern_sessions=b.counts["patterns"],
        absences=b.counts["absences"],
        avoid_preferences=b.counts["avoids"],
        roles=len(b.roles),
        assignments=len(b.assignments),
        teams=len(b.teams),
        team_memberships=b.counts["memberships"],
        users=len(accounts),
        rate_card_entries=rate_rows,
        accounts=tuple(accounts),
    )
    log.info("Demo loaded (seed %d, from %s): %d people, %d roles, %d teams",
             seed, start, summary.people, summary.roles, summary.teams)
    return summary
