"""Survey results as they may be published: response rate; each question's distribution and
mean with its 95 % interval; breakdowns by profession group, organisation kind and borough
(every cell under *k* withheld, with secondary suppression); free text only for the whole wave
when it has at least *k* answers, with the names the system knows removed; the trend across a
survey's waves. Nothing is shown while a wave is open."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from scipy import stats

from ..core.clock import now_utc
from ..core.errors import Conflict, FieldError
from ..core.extensions import db
from ..delivery.recording import london_midnight
from ..models import Attendance, Person, ProtectedSession, RosterStatus
from .bank import BREAKDOWNS, coarse_attributes
from .models import Answer, Invitation, QuestionKind, Response, SurveyQuestion, Wave, WaveStatus
from .suppression import suppress_breakdowns

OTHERS = "Other groups combined"


def withheld_text(k: int) -> str:
    return f"fewer than {k} responses"


def withheld_label(k: int, combined: bool) -> str:
    """What a withheld group of a breakdown says: each is under *k* when the withheld groups
    are shown together; otherwise every breakdown is withheld for one small group (of this
    breakdown or another: see :func:`.suppression.suppress_breakdowns`)."""
    if combined:
        return f"fewer than {k} responses (counted in '{OTHERS}')"
    return f"withheld: a group of this or another breakdown has fewer than {k} responses"


def mean_interval(scores: list[int]) -> dict[str, float | None]:
    """Mean and its 95 % confidence interval (Student's t; none for fewer than two)."""
    n = len(scores)
    mean = sum(scores) / n
    if n < 2:
        return {"mean": round(mean, 2), "low": None, "high": None}
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {"mean": round(mean, 2), "low": round(mean - half, 2), "high": round(mean + half, 2)}


@dataclass(frozen=True)
class Ballot:
    groups: dict[str, str]
    answers: dict[int, Answer]


def _ballots(wave: Wave) -> list[Ballot]:
    responses = db.session.scalars(
        sa.select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
    ).all()
    answers: dict[str, dict[int, Answer]] = defaultdict(dict)
    for a in db.session.scalars(
        sa.select(Answer).join(Response).where(Response.wave_id == wave.id)
    ):
        answers[a.response_id][a.question_id] = a
    return [
        Ballot({"profession_group": r.profession_group, "organisation_kind": r.organisation_kind,
                "borough": r.borough}, answers[r.id])
        for r in responses
    ]


def _cell(q: SurveyQuestion, given: list[Answer]) -> dict[str, Any]:
    """A published cell: its count, distribution (counts and shares) and, for a Likert
    question, the mean with its interval."""
    n = len(given)
    out: dict[str, Any] = {"n": n}
    if q.kind == QuestionKind.LIKERT:
        scores = [a.score for a in given if a.score is not None]
        counts = Counter(scores)
        out["distribution"] = {str(s): counts.get(s, 0) for s in range(1, 6)}
        out.update(mean_interval(scores))
    elif q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        chosen = Counter(c for a in given for c in (a.choices or []))
        out["distribution"] = {o: chosen.get(o, 0) for o in (q.options or [])}
    out["shares"] = {o: round(c / n, 4) for o, c in out.get("distribution", {}).items()}
    return out


def known_names() -> list[str]:
    """Every person's full name and each part of three or more letters, longest first."""
    names: set[str] = set()
    for (name,) in db.session.execute(sa.select(Person.name)):
        names.add(name.strip())
        names.update(p for p in re.split(r"[\s\-']+", name) if len(p) >= 3
                     and p.lower() not in ("dr", "prof", "the", "and"))
    return sorted((n for n in names if n), key=len, reverse=True)


def redact(text: str, names: list[str]) -> str:
    """``text`` with every name the system knows replaced by ``[name]``."""
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return text


def wave_results(wave: Wave, k: int) -> dict[str, Any]:
    """What may be published of a closed wave (409 while it is open)."""
    if wave.status == WaveStatus.OPEN:
        raise Conflict(
            f"Results of wave {wave.number} are hidden until it closes on {wave.closes_on}",
            [FieldError("wave", "open")],
        )
    ballots = _ballots(wave)
    keys = list(BREAKDOWNS)
    cells = Counter[tuple[str, ...]]()
    for inv in db.session.scalars(sa.select(Invitation).where(Invitation.wave_id == wave.id)):
        cells[tuple(getattr(inv, key) for key in keys)] += 1
    total_invited = sum(cells.values())
    # Small groups are counted together, decided from the invitations alone; then every
    # breakdown is shown, or (one group of one of them being under k) none is.
    coded, tables = suppress_breakdowns(
        cells, Counter(tuple(b.groups[key] for key in keys) for b in ballots), k,
        width=len(keys))
    codes = dict(zip(keys, coded, strict=True))
    invited = Counter[tuple[str, str]]()
    for cell, n in cells.items():
        for key, g in zip(keys, cell, strict=True):
            invited[(key, codes[key][g])] += n
    raw_ballots = ballots
    ballots = [Ballot({key: codes[key].get(g, g) for key, g in b.groups.items()}, b.answers)
               for b in ballots]
    n = len(ballots)
    out: dict[str, Any] = {
        "survey": wave.survey.title,
        "wave": wave.number,
        "opens_on": wave.opens_on.isoformat(),
        "closes_on": wave.closes_on.isoformat(),
        "k": k,
        "invited": total_invited,
        "responses": n if n >= k else None,
        "response_rate": round(n / total_invited, 4) if total_invited and n >= k else None,
        "withheld": n < k,
        "breakdowns": {},
        "questions": [],
    }
    for (key, label), table in zip(BREAKDOWNS.items(), tables, strict=True):
        groups = sorted(set(table.published) | table.withheld)
        out["breakdowns"][key] = {
            "label": label,
            "others": table.others,
            "groups": [
                {"group": g, "invited": invited[(key, g)],
                 "responses": table.published.get(g),
                 "response_rate": (round(table.published[g] / invited[(key, g)], 4)
                                   if g in table.published and invited[(key, g)] else None),
                 "withheld": g not in table.published}
                for g in groups
            ],
        }
    names = known_names()
    for q in wave.survey.questions:
        given = [b.answers[q.id] for b in ballots if q.id in b.answers]
        entry: dict[str, Any] = {"id": q.id, "position": q.position, "theme": q.theme,
                                 "text": q.text, "kind": q.kind.value, "options": q.options}
        if q.kind == QuestionKind.TEXT:
            entry["n"] = len(given) if len(given) >= k else None
            entry["withheld"] = len(given) < k
            # Sorted, so the order tells nothing of when each came in.
            entry["comments"] = (sorted(redact(a.text or "", names) for a in given)
                                 if len(given) >= k else [])
            out["questions"].append(entry)
            continue
        overall = _cell(q, given) if len(given) >= k else None
        entry["overall"] = overall
        entry["withheld"] = overall is None
        entry["by"] = {}
        # The question's breakdowns are suppressed together too, on who answered it.
        _, answered = suppress_breakdowns(
            cells, Counter(tuple(b.groups[key] for key in keys)
                           for b in raw_ballots if q.id in b.answers), k, width=len(keys))
        for key, table in zip(keys, answered, strict=True):
            per: dict[str, list[Answer]] = defaultdict(list)
            for b in ballots:
                if q.id in b.answers:
                    per[b.groups[key]].append(b.answers[q.id])
            groups = [g["group"] for g in out["breakdowns"][key]["groups"]]
            entry["by"][key] = [
                {"group": g, "withheld": True} if g not in table.published
                else {"group": g, "withheld": False, **_cell(q, per[g])}
                for g in groups
            ]
        out["questions"].append(entry)
    out["headline"] = headline(out)
    # Beside each published group: its headline score and its protected time, so a board sees
    # whether more delivered time goes with fewer reported barriers.
    time = protected_time(wave, codes)
    likert = [q for q in out["questions"] if q["kind"] == QuestionKind.LIKERT.value]
    for key in BREAKDOWNS:
        for g in out["breakdowns"][key]["groups"]:
            means = [c["mean"] for q in likert for c in q["by"][key]
                     if c["group"] == g["group"] and not c["withheld"] and "mean" in c]
            g["headline"] = round(sum(means) / len(means), 2) if means and not g["withheld"] \
                else None
            g["protected_time"] = time[key].get(g["group"], {
                "hours_planned": 0.0, "hours_delivered": 0.0, "delivery_rate": None})
    out["protected_time_from"] = (wave.closes_on - timedelta(days=PERIOD_DAYS - 1)).isoformat()
    return out


PERIOD_DAYS = 91  # protected time set beside a wave: the quarter up to its closing day


def protected_time(wave: Wave, codes: dict[str, dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Planned against delivered protected time (hours, published sessions that have started)
    in the quarter up to the wave's closing day, at the grain of the survey's breakdowns."""
    first = wave.closes_on - timedelta(days=PERIOD_DAYS - 1)
    rows = db.session.execute(
        sa.select(ProtectedSession.start_at, ProtectedSession.end_at, Attendance.outcome,
                  Attendance.fraction_taken, Person)
        .select_from(Attendance)
        .join(ProtectedSession, Attendance.session_id == ProtectedSession.id)
        .join(Person, Attendance.person_id == Person.id)
        .where(ProtectedSession.status == RosterStatus.CONFIRMED,
               ProtectedSession.start_at >= london_midnight(first),
               ProtectedSession.start_at < london_midnight(wave.closes_on + timedelta(days=1)),
               ProtectedSession.start_at <= now_utc())
    ).all()
    out: dict[str, dict[str, Any]] = {key: {} for key in BREAKDOWNS}
    for start, end, outcome, fraction, person in rows:
        hours = (end - start).total_seconds() / 3600
        attrs = coarse_attributes(person)
        for key in BREAKDOWNS:
            group = codes[key].get(attrs[key], attrs[key])
            cell = out[key].setdefault(group, {"hours_planned": 0.0, "hours_delivered": 0.0})
            cell["hours_planned"] += hours
            if outcome is not None:
                cell["hours_delivered"] += hours * (fraction or 0.0)
    for cells in out.values():
        for cell in cells.values():
            cell["hours_planned"] = round(cell["hours_planned"], 2)
            cell["hours_delivered"] = round(cell["hours_delivered"], 2)
            cell["delivery_rate"] = (round(cell["hours_delivered"] / cell["hours_planned"], 4)
                                     if cell["hours_planned"] else None)
    return out


def headline(results: dict[str, Any]) -> float | None:
    """The wave's headline score: the mean of its Likert questions' published means."""
    means = [q["overall"]["mean"] for q in results["questions"]
             if q["kind"] == QuestionKind.LIKERT.value and q.get("overall")]
    return round(sum(means) / len(means), 2) if means else None


def trend(waves: list[Wave], k: int) -> list[dict[str, Any]]:
    """Each closed wave's response rate, headline score and Likert means, baseline first."""
    rows = []
    for wave in sorted(waves, key=lambda w: w.number):
        if wave.status != WaveStatus.CLOSED:
            continue
        r = wave_results(wave, k)
        rows.append({
            "wave": wave.number,
            "opens_on": r["opens_on"],
            "response_rate": r["response_rate"],
            "responses": r["responses"],
            "headline": r["headline"],
            "means": {q["text"]: (q["overall"] or {}).get("mean") for q in r["questions"]
                      if q["kind"] == QuestionKind.LIKERT.value},
        })
    return rows
