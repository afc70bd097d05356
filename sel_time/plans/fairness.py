"""Fairness across professions: each profession's share of its entitlement met.

One figure, computed here only, for the plan page and the finance page. Its source is the
solver's own ``groups`` (``{"group": "profession:nurse", "entitled": 120, "short": 6}``),
stored with the plan in its ``solution`` document: the same numbers the fairness term
priced, with no second count of windows that could drift from the solver's. A plan solved
before sel-time named groups has none, and the table is not shown.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.extensions import db
from ..models import Plan, PlanStatus, Profession

PREFIX = "profession:"

# Professions in words, for people (the enum's values are for machines).
PROFESSION_LABELS: dict[Profession, str] = {
    Profession.CONSULTANT: "Consultant",
    Profession.SAS_DOCTOR: "SAS doctor",
    Profession.GP: "GP",
    Profession.NURSE: "Nurse",
    Profession.MIDWIFE: "Midwife",
    Profession.AHP: "Allied health professional",
    Profession.PHARMACIST: "Pharmacist",
    Profession.PSYCHOLOGIST: "Psychologist",
    Profession.SOCIAL_WORKER: "Social worker",
    Profession.CARE_MANAGER: "Care manager",
    Profession.PARAMEDIC: "Paramedic",
    Profession.OTHER: "Other",
}


def profession_label(value: str) -> str:
    """``"sas_doctor"`` → ``"SAS doctor"``; an unknown value in plain words."""
    try:
        return PROFESSION_LABELS[Profession(value)]
    except ValueError:
        return value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ProfessionShare:
    """One profession: sessions its leaders are entitled to, planned and short."""

    profession: str
    label: str
    entitled: int
    short: int

    @property
    def planned(self) -> int:
        return self.entitled - self.short

    @property
    def share(self) -> float:
        """Per cent of the entitlement met, to one decimal place."""
        return round(100 * self.planned / self.entitled, 1) if self.entitled else 100.0


@dataclass(frozen=True)
class ProfessionShares:
    """Every profession with an entitlement, worst served first, and the spread."""

    rows: list[ProfessionShare]

    @property
    def spread(self) -> float:
        """Worst − best share met, in percentage points (0 with fewer than two)."""
        if len(self.rows) < 2:
            return 0.0
        shares = [r.share for r in self.rows]
        return round(max(shares) - min(shares), 1)

    def as_dict(self) -> dict[str, Any]:
        return {"spread": self.spread, "professions": [
            {"profession": r.profession, "label": r.label, "entitled": r.entitled,
             "planned": r.planned, "short": r.short, "share": r.share} for r in self.rows]}


def profession_shares(groups: Iterable[dict[str, Any]]) -> ProfessionShares | None:
    """Sum the solver's ``profession:`` groups (of one solution or several); None if none."""
    entitled: dict[str, int] = defaultdict(int)
    short: dict[str, int] = defaultdict(int)
    for g in groups:
        name = str(g.get("group", ""))
        if name.startswith(PREFIX):
            entitled[name[len(PREFIX):]] += int(g.get("entitled", 0))
            short[name[len(PREFIX):]] += int(g.get("short", 0))
    rows = [ProfessionShare(p, profession_label(p), entitled[p], short[p])
            for p in entitled if entitled[p] > 0]
    if not rows:
        return None
    rows.sort(key=lambda r: (r.share, r.label))
    return ProfessionShares(rows)


def plan_profession_shares(plan: Plan) -> ProfessionShares | None:
    """The plan's figure, from the groups of its stored solution."""
    return profession_shares((plan.solution or {}).get("groups") or [])


def published_profession_shares(first: date | None, last: date | None) -> ProfessionShares | None:
    """The published plans' figure, over the plans whose horizons meet ``first``..``last``
    (their whole horizons: the solver counts entitlement by window, not by day). One query."""
    q = sa.select(Plan.start_date, Plan.weeks, Plan.solution).where(
        Plan.status == PlanStatus.PUBLISHED)
    if last is not None:
        q = q.where(Plan.start_date <= last)  # the end is checked below
    groups: list[dict[str, Any]] = []
    for start, weeks, solution in db.session.execute(q):
        if first is not None and start + timedelta(weeks=weeks, days=-1) < first:
            continue
        groups.extend((solution or {}).get("groups") or [])
    return profession_shares(groups)


__all__ = ["PROFESSION_LABELS", "ProfessionShare", "ProfessionShares", "plan_profession_shares",
           "profession_label", "profession_shares", "published_profession_shares"]
