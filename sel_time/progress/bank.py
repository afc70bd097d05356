"""The question bank, seeded from the themes the system named: protected time, training,
investment in skills, culture and partnership across organisations (social care included),
time as a team, and frontline involvement. And the coarse groups a response may carry."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.extensions import db
from ..models import Organisation, Person, Profession
from .models import BankQuestion, QuestionKind

LIKERT_LABELS = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
                 "Strongly agree")

# code, theme, kind, text, options
BANK: tuple[tuple[str, str, QuestionKind, str, tuple[str, ...] | None], ...] = (
    ("time-protected", "Protected time", QuestionKind.LIKERT,
     "The time in my leadership role is protected from clinical and care pressure.", None),
    ("time-enough", "Protected time", QuestionKind.LIKERT,
     "I have enough time to do my leadership role well.", None),
    ("time-lost-why", "Protected time", QuestionKind.MULTIPLE,
     "When you lost protected time, what took it?",
     ("Clinical or care pressure", "Short staffing", "Meetings moved onto it",
      "Illness", "Other")),
    ("training-had", "Training", QuestionKind.LIKERT,
     "I have had training in how to be an effective system leader.", None),
    ("training-want", "Training", QuestionKind.SINGLE,
     "Which training would help you most next?",
     ("Leading across organisations", "Leading change", "Coaching and mentoring",
      "Finance and business planning", "None just now")),
    ("skills-investment", "Investment in skills", QuestionKind.LIKERT,
     "My organisation invests in my leadership skills.", None),
    ("partnership-social-care", "Culture and partnership", QuestionKind.LIKERT,
     "Health and social care leaders here work as partners.", None),
    ("partnership-culture", "Culture and partnership", QuestionKind.LIKERT,
     "The culture across organisations supports shared learning.", None),
    ("team-time", "Time as a team", QuestionKind.LIKERT,
     "My leadership team gets time together regularly.", None),
    ("frontline-involved", "Frontline involvement", QuestionKind.LIKERT,
     "Frontline staff are involved in decisions that affect them.", None),
    ("frontline-step-up", "Frontline involvement", QuestionKind.LIKERT,
     "Staff willing to step into leadership get support and training.", None),
    ("barrier-main", "Barriers", QuestionKind.TEXT,
     "What is the biggest barrier to your leadership time, and one idea to remove it?", None),
)


def seed_bank() -> int:
    """Add the bank's questions that are missing (by code); return how many were added."""
    have = set(db.session.scalars(sa.select(BankQuestion.code)))
    added = 0
    for code, theme, kind, text, options in BANK:
        if code in have:
            continue
        db.session.add(BankQuestion(code=code, theme=theme, kind=kind, text=text,
                                    options=list(options) if options else None))
        added += 1
    db.session.flush()
    return added


PROFESSION_GROUPS = {
    Profession.CONSULTANT: "Medical",
    Profession.SAS_DOCTOR: "Medical",
    Profession.GP: "Medical",
    Profession.NURSE: "Nursing and midwifery",
    Profession.MIDWIFE: "Nursing and midwifery",
    Profession.AHP: "Allied health, pharmacy and psychology",
    Profession.PHARMACIST: "Allied health, pharmacy and psychology",
    Profession.PSYCHOLOGIST: "Allied health, pharmacy and psychology",
    Profession.PARAMEDIC: "Allied health, pharmacy and psychology",
    Profession.SOCIAL_WORKER: "Social care",
    Profession.CARE_MANAGER: "Social care",
    Profession.OTHER: "Other",
}

ORG_KIND_GROUPS = {
    "acute_trust": "Hospital trust",
    "mental_health_trust": "Mental health trust",
    "community_provider": "Community provider",
    "primary_care_network": "Primary care",
    "gp_practice": "Primary care",
    "local_authority": "Local authority (social care)",
    "icb": "Integrated care board",
    "voluntary_sector": "Voluntary sector",
}

BREAKDOWNS = {
    "profession_group": "Profession group",
    "organisation_kind": "Organisation kind",
    "borough": "Borough",
}


def coarse_attributes(person: Person) -> dict[str, str]:
    """The only facts about a respondent that reach their answers."""
    org: Organisation = person.organisation
    return {
        "profession_group": PROFESSION_GROUPS.get(person.profession, "Other"),
        "organisation_kind": ORG_KIND_GROUPS.get(org.kind.value, "Other"),
        "borough": org.borough.value,
    }
