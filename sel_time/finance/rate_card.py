"""The default backfill rate card and the mapping from profession and band to a staff group.

The card ships as ``sel_time/data/rate_card_2025_26.csv`` (one row per staff group, the source
of each figure named in the row; see ``/work/shared/domain.md``). Rates are read as GBP and
stored as integer pence. Pharmacists, paramedics, psychologists and the other Agenda for Change
professions are costed at their own AfC band, so they need no group of their own.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Profession, RateCardEntry

log = logging.getLogger(__name__)

DEFAULT_CARD = "rate_card_2025_26.csv"
DEFAULT_EFFECTIVE_FROM = date(2025, 4, 1)
CSV_COLUMNS = ("staff_group", "label", "rate_gbp_per_hour", "effective_from", "source")

#: Agenda for Change bands the card prices, as written after ``afc_band_``.
AFC_BANDS = ("5", "6", "7", "8a", "8b", "8c", "8d")
#: The group used when an AfC-costed person has no band (profession "other" only).
FALLBACK_STAFF_GROUP = "afc_band_6"

#: Professions with a rate of their own, whatever their band.
_OWN_GROUP = {
    Profession.CONSULTANT: "consultant",
    Profession.SAS_DOCTOR: "sas_doctor",
    Profession.GP: "gp",
    Profession.SOCIAL_WORKER: "social_worker",
    Profession.CARE_MANAGER: "care_manager",
}
#: Professions costed at their Agenda for Change band.
_AFC = (
    Profession.NURSE,
    Profession.MIDWIFE,
    Profession.AHP,
    Profession.PHARMACIST,
    Profession.PSYCHOLOGIST,
    Profession.PARAMEDIC,
    Profession.OTHER,
)


@dataclass(frozen=True)
class RateCardRow:
    """One line of a rate card file."""

    staff_group: str
    label: str
    rate_pence_per_hour: int
    effective_from: date
    source: str


def normalise_band(band: str | None) -> str | None:
    """``"Band 8A"``, ``"8a"``, ``" 7 "`` → ``"8a"``, ``"8a"``, ``"7"``; empty → None."""
    if band is None:
        return None
    text = str(band).strip().lower().replace(" ", "")
    if text.startswith("band"):
        text = text[4:]
    if text.startswith("afc"):
        text = text[3:]
    return text or None


def staff_group_for(
    profession: Profession | str, band: str | None = None, *, council: bool = False
) -> str:
    """The rate-card staff group for a person.

    Consultants, SAS doctors, GPs, social workers and care managers have their own group;
    Agenda for Change professions take ``afc_band_<band>``. An allied health professional
    employed by a council (``council=True``) is costed as a council occupational therapist,
    since councils do not pay on AfC bands. Profession ``other`` without a band falls back to
    band 6. Raises ``ValueError`` for an unknown profession, or an AfC profession whose band is
    missing or not on the card.
    """
    try:
        prof = Profession(profession)
    except ValueError:
        raise ValueError(f"unknown profession {profession!r}") from None
    if prof in _OWN_GROUP:
        return _OWN_GROUP[prof]
    if prof == Profession.AHP and council:
        return "council_ot"
    norm = normalise_band(band)
    if norm is None:
        if prof == Profession.OTHER:
            return FALLBACK_STAFF_GROUP
        raise ValueError(f"a band is needed to cost a {prof.value} (one of {', '.join(AFC_BANDS)})")
    if norm not in AFC_BANDS:
        raise ValueError(f"band {band!r} is not on the rate card (one of {', '.join(AFC_BANDS)})")
    return f"afc_band_{norm}"


def parse_rate_card(text: str) -> list[RateCardRow]:
    """Parse rate card CSV text (header :data:`CSV_COLUMNS`); GBP become integer pence."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"rate card is missing column(s): {', '.join(missing)}")
    rows: list[RateCardRow] = []
    for line, rec in enumerate(reader, start=2):
        try:
            gbp = Decimal(rec["rate_gbp_per_hour"].strip())
            pence = int((gbp * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
            effective = date.fromisoformat(rec["effective_from"].strip())
        except (InvalidOperation, ValueError, AttributeError) as exc:
            raise ValueError(f"rate card line {line}: {exc}") from None
        if pence < 0:
            raise ValueError(f"rate card line {line}: negative rate")
        rows.append(
            RateCardRow(
                staff_group=rec["staff_group"].strip(),
                label=rec["label"].strip(),
                rate_pence_per_hour=pence,
                effective_from=effective,
                source=rec["source"].strip(),
            )
        )
    return rows


def default_rate_card() -> list[RateCardRow]:
    """The shipped 2025/26 card, one row per staff group."""
    text = resources.files("sel_time").joinpath("data", DEFAULT_CARD).read_text(encoding="utf-8")
    return parse_rate_card(text)


def default_staff_groups() -> tuple[str, ...]:
    """Every staff group the default card prices, in file order."""
    return tuple(row.staff_group for row in default_rate_card())


def load_default_rate_card(session: Session) -> int:
    """Add the default card's rows that are not already stored (keyed on staff group and
    effective date) and flush. Returns how many rows were added; never commits."""
    present = set(
        session.execute(sa.select(RateCardEntry.staff_group, RateCardEntry.effective_from)).all()
    )
    added = 0
    for row in default_rate_card():
        if (row.staff_group, row.effective_from) in present:
            continue
        session.add(
            RateCardEntry(
                staff_group=row.staff_group,
                label=row.label,
                rate_pence_per_hour=row.rate_pence_per_hour,
                effective_from=row.effective_from,
                source=row.source,
            )
        )
        added += 1
    session.flush()
    log.info("Default rate card: %d row(s) added", added)
    return added
