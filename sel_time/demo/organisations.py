"""The demo's organisations and services: the ICB, its partner trusts, the six borough councils
and a handful of primary care networks with generic names (pure data)."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Borough, OrgKind

ICB_CODE = "SEL-ICB"


@dataclass(frozen=True)
class OrgSpec:
    """An organisation of the demo."""

    code: str
    name: str
    kind: OrgKind
    borough: Borough
    domain: str


@dataclass(frozen=True)
class DeptSpec:
    """A service of an organisation and the leaders who work there."""

    code: str
    org: str
    name: str
    max_away: int
    seats: tuple[str, ...]  # "profession[/band][:specialty]*count"
    borough: Borough | None = None  # where its people work, if not the organisation's borough
    non_clinical: bool = False  # nobody here needs backfill (ICB staff)
    on_call: bool = False  # doctors here carry a fortnightly on-call day
    lists: str | None = None  # consultants here have a weekly fixed list (theatre, cath lab)


COUNCILS = {
    Borough.BEXLEY: ("LBBX", "London Borough of Bexley", "bexley.gov.uk", "BEX"),
    Borough.BROMLEY: ("LBBR", "London Borough of Bromley", "bromley.gov.uk", "BRO"),
    Borough.GREENWICH: ("RBG", "Royal Borough of Greenwich", "royalgreenwich.gov.uk", "GRE"),
    Borough.LAMBETH: ("LBLAM", "London Borough of Lambeth", "lambeth.gov.uk", "LAM"),
    Borough.LEWISHAM: ("LBLEW", "London Borough of Lewisham", "lewisham.gov.uk", "LEW"),
    Borough.SOUTHWARK: ("LBS", "London Borough of Southwark", "southwark.gov.uk", "SWK"),
}
BOROUGHS = tuple(COUNCILS)
BOROUGH_ABBR = {b: v[3] for b, v in COUNCILS.items()}

# Primary care networks: generic, plausible names; (code, name, borough, CD sessions a week).
PCNS = (
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

ORGS: tuple[OrgSpec, ...] = (
    OrgSpec(ICB_CODE, "NHS South East London Integrated Care Board", OrgKind.ICB, Borough.SYSTEM,
         NHS_DOMAIN),
    OrgSpec("GSTT", "Guy's and St Thomas' NHS Foundation Trust", OrgKind.ACUTE_TRUST,
         Borough.SOUTHWARK, NHS_DOMAIN),
    OrgSpec("KCH", "King's College Hospital NHS Foundation Trust", OrgKind.ACUTE_TRUST,
         Borough.LAMBETH, NHS_DOMAIN),
    OrgSpec("LGT", "Lewisham and Greenwich NHS Trust", OrgKind.ACUTE_TRUST, Borough.LEWISHAM,
         NHS_DOMAIN),
    OrgSpec("SLAM", "South London and Maudsley NHS Foundation Trust", OrgKind.MENTAL_HEALTH_TRUST,
         Borough.SOUTHWARK, NHS_DOMAIN),
    OrgSpec("OXLEAS", "Oxleas NHS Foundation Trust", OrgKind.MENTAL_HEALTH_TRUST, Borough.BEXLEY,
         NHS_DOMAIN),
    OrgSpec("BHC", "Bromley Healthcare", OrgKind.COMMUNITY_PROVIDER, Borough.BROMLEY, NHS_DOMAIN),
    *(OrgSpec(code, name, OrgKind.LOCAL_AUTHORITY, b, dom) for b, (code, name, dom, _) in
      COUNCILS.items()),
    *(OrgSpec(code, name, OrgKind.PRIMARY_CARE_NETWORK, b, NHS_DOMAIN)
      for code, name, b, _ in PCNS),
)
TRUST_CODES = ("GSTT", "KCH", "LGT", "SLAM", "OXLEAS", "BHC")
COUNCIL_CODES = tuple(v[0] for v in COUNCILS.values())
PCN_CODES = tuple(p[0] for p in PCNS)

_EM, _PSY = "Emergency medicine", "Psychiatry"
DEPTS: tuple[DeptSpec, ...] = (
    # NHS South East London ICB: system staff, no clinical sessions.
    DeptSpec("icb-nursing", ICB_CODE, "Nursing and Quality", 2,
          ("nurse/8d:Nursing leadership*1", "nurse/8c:Quality and safety*1",
           "midwife/8c:Maternity system*1"), non_clinical=True),
    DeptSpec("icb-medicines", ICB_CODE, "Medicines Optimisation", 1,
          ("pharmacist/8b*1", "pharmacist/8a*1"), non_clinical=True),
    DeptSpec("icb-leadership", ICB_CODE, "Clinical and Care Professional Leadership Office", 2,
          ("other/8c:Organisational development*1", "other/8b:Workforce development*1"),
          non_clinical=True),
    # Guy's and St Thomas'
    DeptSpec("gstt-ed", "GSTT", "Emergency Department, St Thomas' Hospital", 2,
          (f"consultant:{_EM}*3", f"sas_doctor:{_EM}*1", "nurse/7:Emergency nursing*1",
           "nurse/8a:Emergency nursing*1"), borough=Borough.LAMBETH, on_call=True),
    DeptSpec("gstt-evelina", "GSTT", "Evelina London Children's Hospital", 2,
          ("consultant:Paediatrics*3", "nurse/7:Children's nursing*1",
           "nurse/8a:Children's nursing*1", "ahp/7:Physiotherapy*1"), borough=Borough.LAMBETH),
    DeptSpec("gstt-maternity", "GSTT", "Maternity, St Thomas' Hospital", 2,
          ("midwife/7*2", "midwife/8a*1", "consultant:Obstetrics and gynaecology*1"),
          borough=Borough.LAMBETH, lists="Theatre list (obstetrics)"),
    DeptSpec("gstt-cardio", "GSTT", "Cardiovascular Services", 2,
          ("consultant:Cardiology*2", "other/7:Cardiac physiology*1"),
          lists="Cardiac catheter lab list"),
    DeptSpec("gstt-community", "GSTT", "Adult Community Services, Lambeth and Southwark", 2,
          ("nurse/7:District nursing*2", "nurse/8a:District nursing*1",
           "ahp/7:Occupational therapy*1", "ahp/6:Speech and language therapy*1")),
    DeptSpec("gstt-therapies", "GSTT", "Therapies and Imaging", 2,
          ("ahp/7:Physiotherapy*1", "ahp/8a:Dietetics*1", "ahp/7:Radiography*1",
           "ahp/8b:Radiography*1")),
    DeptSpec("gstt-pharmacy", "GSTT", "Pharmacy", 1, ("pharmacist/8a*1", "pharmacist/8b*1")),
    # King's College Hospital
    DeptSpec("kch-ed", "KCH", "Emergency Department, Denmark Hill", 2,
          (f"consultant:{_EM}*3", f"sas_doctor:{_EM}*2", "nurse/8a:Emergency nursing*1"),
          on_call=True),
    DeptSpec("kch-liver", "KCH", "Institute of Liver Studies", 2,
          ("consultant:Hepatology*2", "nurse/7:Liver nursing*1")),
    DeptSpec("kch-pruh-medicine", "KCH", "Acute Medicine, Princess Royal University Hospital", 2,
          ("consultant:Acute medicine*2", "sas_doctor:Acute medicine*1",
           "nurse/7:Acute medical nursing*1", "nurse/8a:Acute medical nursing*1"),
          borough=Borough.BROMLEY, on_call=True),
    DeptSpec("kch-maternity", "KCH", "Maternity, Denmark Hill", 2,
          ("midwife/7*1", "midwife/8a*1", "consultant:Obstetrics and gynaecology*1"),
          lists="Theatre list (obstetrics)"),
    DeptSpec("kch-neuro", "KCH", "Neurosciences", 2,
          ("consultant:Neurology*2", "ahp/7:Speech and language therapy*1",
           "ahp/7:Physiotherapy*1")),
    DeptSpec("kch-imaging", "KCH", "Imaging", 1,
          ("ahp/7:Radiography*1", "ahp/8a:Radiography*1", "consultant:Radiology*1"),
          lists="Interventional radiology list"),
    DeptSpec("kch-haematology", "KCH", "Haematology", 1,
          ("consultant:Haematology*1", "other/7:Physician associate*1")),
    DeptSpec("kch-pharmacy", "KCH", "Pharmacy", 1, ("pharmacist/8a*1", "pharmacist/7*1")),
    # Lewisham and Greenwich
    DeptSpec("lgt-ed-uhl", "LGT", "Emergency Department, University Hospital Lewisham", 2,
          (f"consultant:{_EM}*2", f"sas_doctor:{_EM}*1", "nurse/7:Emergency nursing*1",
           "paramedic/7:Emergency care practitioner*1"), on_call=True),
    DeptSpec("lgt-ed-qeh", "LGT", "Emergency Department, Queen Elizabeth Hospital", 2,
          (f"consultant:{_EM}*2", f"sas_doctor:{_EM}*1", "nurse/8a:Emergency nursing*1"),
          borough=Borough.GREENWICH, on_call=True),
    DeptSpec("lgt-maternity", "LGT", "Maternity", 2,
          ("midwife/7*1", "midwife/8b*1", "consultant:Obstetrics and gynaecology*1"),
          lists="Theatre list (obstetrics)"),
    DeptSpec("lgt-medicine", "LGT", "Acute and General Medicine", 2,
          ("consultant:Geriatric medicine*2", "sas_doctor:General medicine*1",
           "nurse/7:Older people's nursing*1"), on_call=True),
    DeptSpec("lgt-community", "LGT", "Lewisham Community Health Services", 2,
          ("nurse/7:District nursing*1", "nurse/8a:Community nursing*1",
           "ahp/7:Physiotherapy*1", "ahp/6:Podiatry*1")),
    DeptSpec("lgt-pharmacy", "LGT", "Pharmacy", 1,
          ("pharmacist/8a*1", "other/6:Pharmacy technician*1")),
    # South London and Maudsley
    DeptSpec("slam-acp", "SLAM", "Acute Care Pathway", 2,
          (f"consultant:{_PSY}*3", f"sas_doctor:{_PSY}*1", "nurse/7:Mental health nursing*1",
           "nurse/8a:Mental health nursing*1"), on_call=True),
    DeptSpec("slam-psychology", "SLAM", "Psychological Therapies", 2,
          ("psychologist/8a:Clinical psychology*2", "psychologist/8b:Clinical psychology*1",
           "psychologist/8c:Clinical psychology*1")),
    DeptSpec("slam-camhs", "SLAM", "Child and Adolescent Mental Health Services", 2,
          ("consultant:Child and adolescent psychiatry*1",
           "psychologist/8a:Clinical psychology*1", "nurse/7:Mental health nursing*1")),
    DeptSpec("slam-community", "SLAM", "Community Mental Health, Lambeth", 2,
          ("nurse/7:Mental health nursing*1", "ahp/7:Occupational therapy*1",
           "social_worker:Mental health social work*1",
           "psychologist/8a:Counselling psychology*1"), borough=Borough.LAMBETH),
    DeptSpec("slam-pharmacy", "SLAM", "Pharmacy", 1, ("pharmacist/8a:Mental health pharmacy*1",)),
    # Oxleas
    DeptSpec("oxleas-amh", "OXLEAS", "Adult Mental Health, Bexley and Greenwich", 2,
          (f"consultant:{_PSY}*2", "nurse/7:Mental health nursing*1",
           "psychologist/8a:Clinical psychology*1", "social_worker:Mental health social work*1"),
          on_call=True),
    DeptSpec("oxleas-community", "OXLEAS", "Adult Community Services, Greenwich", 2,
          ("nurse/7:District nursing*1", "nurse/8a:Community nursing*1",
           "ahp/7:Physiotherapy*1", "ahp/6:Dietetics*1"), borough=Borough.GREENWICH),
    DeptSpec("oxleas-forensic", "OXLEAS", "Forensic and Prison Services", 2,
          ("consultant:Forensic psychiatry*1", "psychologist/8b:Forensic psychology*1",
           "nurse/7:Mental health nursing*1")),
    DeptSpec("oxleas-pharmacy", "OXLEAS", "Pharmacy", 1, ("pharmacist/8a*1",)),
    # Bromley Healthcare
    DeptSpec("bhc-ucr", "BHC", "Urgent Community Response", 2,
          ("paramedic/7:Advanced paramedic practice*1", "paramedic/6*1",
           "nurse/7:Community nursing*1", "ahp/6:Occupational therapy*1")),
    DeptSpec("bhc-district-nursing", "BHC", "District Nursing", 1,
          ("nurse/6:District nursing*1", "nurse/7:District nursing*1")),
    DeptSpec("bhc-childrens-therapies", "BHC", "Children's Therapies", 1,
          ("ahp/7:Speech and language therapy*1", "ahp/6:Physiotherapy*1")),
    # The six councils: adult social care; three also run a hospital discharge team.
    *(DeptSpec(f"{code.lower()}-asc", code, "Adult Social Care", 2,
            ("social_worker:Adult social work*2", "care_manager*2",
             "ahp:Occupational therapy*1"))
      for code in COUNCIL_CODES),
    *(DeptSpec(f"{code.lower()}-discharge", code, "Hospital Discharge and Reablement", 1,
            ("social_worker:Hospital social work*2",))
      for code in ("LBLAM", "LBS", "LBLEW")),
    # Primary care networks: three GPs each and some additional roles.
    *(DeptSpec(f"{code.lower()}-clinical", code, "Clinical Team", 2,
            ("gp:General practice*3", *_PCN_EXTRA[code]))
      for code, _, _, _ in PCNS),
)
