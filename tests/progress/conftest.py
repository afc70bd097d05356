"""A small directory of people to invite, and helpers to open a wave and answer it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from sel_time.core.audit import CLI_ACTOR
from sel_time.core.extensions import db
from sel_time.progress import surveys
from sel_time.progress.models import Invitation

QUESTIONS = ["time-protected", "training-had", "time-lost-why", "barrier-main"]


@pytest.fixture()
def people(make: Callable[..., Any]) -> dict[str, list[Any]]:
    """24 nurses at an acute trust in Lambeth, 22 social workers at Lambeth council, 6 GPs
    in a Bexley primary care network (so the GPs are counted with the social workers)."""
    acute = make("organisations", kind="acute_trust", borough="Lambeth")
    council = make("organisations", kind="local_authority", borough="Lambeth")
    pcn = make("organisations", kind="primary_care_network", borough="Bexley")
    out: dict[str, list[Any]] = {"nurse": [], "social_worker": [], "gp": []}
    firsts = ["Amara", "Bethan", "Chidi", "Dylan", "Esme", "Farah", "Gareth", "Hana", "Isla",
              "Jonah", "Kemi", "Liam", "Maya"]
    lasts = ["Okafor", "Price", "Nwosu", "Hughes"]
    names = iter(f"{f} {n}" for n in lasts for f in firsts)
    for prof, org, n in (("nurse", acute, 24), ("social_worker", council, 22), ("gp", pcn, 6)):
        for _ in range(n):
            out[prof].append(make("people", name=next(names), profession=prof,
                                  organisation_id=org.id,
                                  **({"band": None} if prof == "gp" else {})))
    return out


@pytest.fixture()
def wave_with_links(app: Flask, people: dict[str, list[Any]]) -> Callable[..., Any]:
    """Create a survey, open its wave; return (wave, {person id: token})."""

    def _open(questions: list[str] | None = None, cadence: str = "once") -> Any:
        s = surveys.create_survey("Leadership time baseline", cadence, questions or QUESTIONS,
                                  CLI_ACTOR)
        wave, _ = surveys.open_wave(s, surveys.today_london(), CLI_ACTOR)
        tokens = {inv.person_id: surveys.invitation_link(inv).rsplit("/", 1)[1]
                  for inv in db.session.query(Invitation).filter_by(wave_id=wave.id)}
        db.session.commit()
        return wave, tokens

    return _open
