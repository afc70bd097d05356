"""A person's staff group, the key of the backfill rate card: from their profession and band."""

from __future__ import annotations

from ..models import Profession

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
