"""Seeded generator of realistic sel-time problems (`sel-time/problem@1`, as plain JSON dicts).

    python -m bench.generate M --seed 1 -o /tmp/m.json

The instance looks like a health and care system's clinical and care professional leaders:
people in departments of acute and mental-health trusts, community services, primary care
networks and councils, grouped by borough (and, for L, by integrated care system). Each person
has a profession with a backfill rate (the default rate card in `shared/domain.md`), a weekly
half-day pattern (full- or part-time, one or two non-clinical sessions that cost nothing to
protect, a few fixed clinics that cannot move), weeks of annual leave and ad-hoc absences;
one or two leadership roles asking for sessions every week or fortnight; and some are members
of teams of 5 to 12 that meet monthly with a quorum, some of them on a fixed day.

Everything is drawn from one `random.Random` seeded with the size and seed, iterating only
over lists and sorted keys, so the same size and seed give the same problem in any process.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Optional, Sequence

log = logging.getLogger(__name__)

PROBLEM_FORMAT = "sel-time/problem@1"
DEFAULT_START = date(2026, 3, 30)  # a Monday; 12 weeks cover Easter, both May bank holidays
HALVES = (("AM", "09:00", "13:00"), ("PM", "13:00", "17:00"))
SLOT_HOURS = 4
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


# ---- sizes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    people: int
    weeks: int
    teams: int
    region: str  # key of REGIONS


SIZES: dict[str, Size] = {
    "S": Size(people=60, weeks=8, teams=4, region="lewisham"),
    "M": Size(people=600, weeks=12, teams=40, region="south-east-london"),
    "L": Size(people=6000, weeks=12, teams=400, region="london"),
}

# Boroughs grouped by integrated care system (NHS England ICB boundaries, 2022).
LONDON_ICS: dict[str, tuple[str, ...]] = {
    "North Central London": ("Barnet", "Camden", "Enfield", "Haringey", "Islington"),
    "North East London": (
        "City of London", "Hackney", "Barking and Dagenham", "Havering", "Redbridge",
        "Newham", "Tower Hamlets", "Waltham Forest",
    ),
    "North West London": (
        "Brent", "Ealing", "Hammersmith and Fulham", "Harrow", "Hillingdon", "Hounslow",
        "Kensington and Chelsea", "Westminster",
    ),
    "South East London": ("Bexley", "Bromley", "Greenwich", "Lambeth", "Lewisham", "Southwark"),
    "South West London": ("Croydon", "Kingston", "Merton", "Richmond", "Sutton", "Wandsworth"),
}
REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "lewisham": {"South East London": ("Lewisham",)},
    "south-east-london": {"South East London": LONDON_ICS["South East London"]},
    "london": LONDON_ICS,
}
SMALL_BOROUGHS = {"City of London": 0.1}  # relative share of people; others 1.0


# ---- professions and rate card ---------------------------------------------------------------


@dataclass(frozen=True)
class Profession:
    label: str
    rate: float  # GBP per hour of backfill (shared/domain.md rate card)
    doctor: bool = False
    part_time: float = 0.25  # share of part-timers
    full_time_halves: int = 10


# Rates from the default rate card in shared/domain.md: consultant 120 [EST] (BMA 2022 / agency
# averages), SAS 60 [EST] (NHS Employers 2024), GP locum 100 [EST] (Pulse / NASGP 2023),
# AfC bands 6/7/8a 35/41/47 (AfC 2025/26 mid-points, Inner London, derived), band 8b 55 (lower end
# of the card's 55-75 for 8b-8d), social worker 48, care manager 39, council OT 50 (PSSRU 2024).
PROFESSIONS: dict[str, Profession] = {
    "consultant": Profession("Consultant", 120, doctor=True, part_time=0.15),
    "sas": Profession("Specialty doctor", 60, doctor=True, part_time=0.2),
    "gp": Profession("GP", 100, doctor=True, part_time=0.5, full_time_halves=9),
    "band6": Profession("Nurse / AHP (band 6)", 35),
    "band7": Profession("Specialist nurse / psychologist (band 7)", 41),
    "band8a": Profession("Nurse / AHP / pharmacy lead (band 8a)", 47),
    "band8b": Profession("Senior lead (band 8b)", 55),
    "social-worker": Profession("Social worker", 48, part_time=0.2),
    "care-manager": Profession("Care manager", 39, part_time=0.2),
    "council-ot": Profession("Occupational therapist (council)", 50),
}


@dataclass(frozen=True)
class Setting:
    """A kind of organisation: its departments and its mix of professions."""

    key: str
    weight: float
    departments: tuple[str, ...]
    mix: tuple[tuple[str, float], ...]


SETTINGS: tuple[Setting, ...] = (
    Setting("acute", 0.30,
            ("ed", "acute-medicine", "surgery", "paediatrics", "maternity", "cancer", "frailty"),
            (("consultant", 0.35), ("sas", 0.10), ("band6", 0.10), ("band7", 0.20),
             ("band8a", 0.20), ("band8b", 0.05))),
    Setting("mental-health", 0.12, ("adult-mh", "camhs", "older-adults-mh", "crisis"),
            (("consultant", 0.25), ("band6", 0.10), ("band7", 0.30), ("band8a", 0.25),
             ("band8b", 0.10))),
    Setting("community", 0.13, ("district-nursing", "rehab", "community-paeds"),
            (("band6", 0.30), ("band7", 0.35), ("band8a", 0.20), ("band8b", 0.15))),
    Setting("primary-care", 0.30, ("pcn-north", "pcn-south", "pcn-central", "pcn-east"),
            (("gp", 0.60), ("band7", 0.15), ("band8a", 0.15), ("band6", 0.10))),
    Setting("council", 0.15, ("adult-social-care", "childrens-social-care"),
            (("social-worker", 0.55), ("care-manager", 0.20), ("council-ot", 0.25))),
)

ROLES = {
    "doctor": ("Clinical lead", "Clinical director", "Quality improvement lead", "Education lead",
               "Research lead", "Clinical safety officer", "Guardian of safe working"),
    "gp": ("PCN clinical director", "Borough clinical lead", "Prescribing lead",
           "Population health lead", "Training programme director"),
    "nurse": ("Nursing lead", "Practice development lead", "Safeguarding lead",
              "Infection prevention lead", "Digital nursing lead", "Quality improvement lead"),
    "social": ("Principal social worker", "Practice lead", "Safeguarding adults lead",
               "Workforce development lead", "Hospital discharge lead"),
}
TEAM_TOPICS = ("frailty", "urgent care", "mental health", "children and young people",
               "diabetes", "end of life care", "population health", "workforce", "digital",
               "quality improvement", "safeguarding", "respiratory", "cardiovascular", "cancer",
               "learning disability", "hospital discharge")
TEAM_KINDS = ("board", "leadership group", "network", "steering group",
              "clinical reference group")
FIRST_NAMES = (
    "Amara", "Olu", "Priya", "James", "Fatima", "Tom", "Chloe", "Kwame", "Sofia", "Daniel",
    "Aisha", "Liam", "Mei", "Hannah", "Yusuf", "Grace", "Rohan", "Emma", "Tariq", "Zara",
    "Ben", "Ngozi", "Lucy", "Arjun", "Isabel", "Kofi", "Sarah", "Mohammed", "Anna", "Chinedu",
    "Rachel", "Hassan", "Eleanor", "Sanjay", "Leah", "Adebayo", "Katie", "Ravi", "Joanna",
    "Emeka", "Helen", "Bilal", "Ruth", "Dev", "Imogen", "Femi", "Laura", "Nadia", "Peter",
    "Yewande", "Mark", "Sunita", "Claire", "Ifeoma", "David", "Maryam", "Owen", "Abena",
)
SURNAMES = (
    "Okafor", "Patel", "Smith", "Khan", "Adeyemi", "Jones", "Williams", "Chen", "Begum",
    "Brown", "Mensah", "Taylor", "Ahmed", "Wilson", "Shah", "Evans", "Osei", "Thomas",
    "Hussain", "Roberts", "Nwosu", "Johnson", "Ali", "Walker", "Singh", "Wright", "Boateng",
    "Green", "Kaur", "Hall", "Oyelaran", "Lewis", "Rahman", "Clarke", "Adebayo", "Hughes",
    "Mahmood", "Edwards", "Nguyen", "Turner", "Owusu", "Baker", "Iqbal", "Cooper", "Eze",
    "Morris", "Chowdhury", "Ward", "Danso", "King", "Sharma", "Harris", "Obi", "Murphy",
)


# ---- calendar ------------------------------------------------------------------------------


def england_holidays(start: date, end: date) -> tuple[set[date], str]:
    """England bank holidays between start and end, from the `holidays` package."""
    try:
        import holidays as holidays_pkg
    except ImportError:  # pragma: no cover - the venv has it; keep the bench runnable without
        fixed = {date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
                 date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28)}
        log.warning("holidays package missing: using a fixed 2026 list")
        return {d for d in fixed if start <= d <= end}, "fixed-2026-list"
    years = range(start.year, end.year + 1)
    cal = holidays_pkg.country_holidays("GB", subdiv="ENG", years=years)
    return {d for d in cal if start <= d <= end}, f"holidays {holidays_pkg.__version__}"


def slot_id(day: date, half: str) -> str:
    return f"{day.isoformat()}/{half}"


def make_slots(start: date, weeks: int, closed: set[date]) -> list[dict[str, str]]:
    slots = []
    for offset in range(weeks * 7):
        day = start + timedelta(days=offset)
        if day.weekday() >= 5 or day in closed:
            continue
        for half, begin, finish in HALVES:
            slots.append({"id": slot_id(day, half), "start": f"{day.isoformat()}T{begin}",
                          "end": f"{day.isoformat()}T{finish}"})
    return slots


def make_windows(start: date, weeks: int, every: int, first: date, last: date,
                 sessions: int, max_: Optional[int] = None) -> list[dict[str, Any]]:
    """One window per `every` weeks from `start`, Monday to Sunday, clipped to [first, last]."""
    out = []
    for w in range(0, weeks, every):
        lo = max(start + timedelta(weeks=w), first)
        hi = min(start + timedelta(weeks=min(w + every, weeks), days=-1), last)
        if lo > hi:
            continue
        window: dict[str, Any] = {"from": lo.isoformat(), "to": hi.isoformat(),
                                  "sessions": sessions}
        if max_ is not None:
            window["max"] = max_
        out.append(window)
    return out


# ---- helpers ---------------------------------------------------------------------------------


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    items = [k for k, _ in pairs]
    return rng.choices(items, weights=[w for _, w in pairs], k=1)[0]


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def split_people(total: int, boroughs: Sequence[str]) -> list[int]:
    """Share `total` people among boroughs by weight, largest remainder first (deterministic)."""
    weights = [SMALL_BOROUGHS.get(b, 1.0) for b in boroughs]
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(boroughs)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def role_family(profession: str) -> str:
    if profession == "gp":
        return "gp"
    if PROFESSIONS[profession].doctor:
        return "doctor"
    if profession in ("social-worker", "care-manager", "council-ot"):
        return "social"
    return "nurse"


# ---- people --------------------------------------------------------------------------------


def weekly_pattern(rng: random.Random, prof: Profession, part_time: bool) -> list[str]:
    """Ten half-days (Mon AM .. Fri PM): 'off', 'fixed' (clinic that cannot move),
    'clinical' (backfill at the profession's rate) or 'non-clinical' (free to protect)."""
    halves = rng.randint(5, 8) if part_time else prof.full_time_halves
    pattern = ["work"] * 10
    off = 10 - halves
    days = list(range(5))
    rng.shuffle(days)
    for d in days[: off // 2]:
        pattern[2 * d] = pattern[2 * d + 1] = "off"
    if off % 2:
        d = days[off // 2]
        pattern[2 * d + rng.randint(0, 1)] = "off"
    working = [i for i, s in enumerate(pattern) if s == "work"]
    rng.shuffle(working)
    senior = prof.doctor or prof.rate >= 47
    non_clinical = 1 if part_time else (2 if senior and rng.random() < 0.5 else 1)
    if prof.doctor:
        fixed = rng.randint(1, 2) if part_time else rng.randint(2, 3)
    else:
        fixed = rng.randint(0, 1) if part_time else rng.randint(0, 2)
    for i in working[:non_clinical]:
        pattern[i] = "non-clinical"
    for i in working[non_clinical: non_clinical + fixed]:
        pattern[i] = "fixed"
    return ["clinical" if s == "work" else s for s in pattern]


def leave_weeks(rng: random.Random, weeks: int) -> set[int]:
    """Annual leave in whole weeks: about 6 weeks a year (27-33 days plus a few study days),
    sometimes two weeks together."""
    count = sum(rng.random() < 0.11 for _ in range(weeks))
    if count == 0:
        return set()
    if count >= 2 and rng.random() < 0.4:
        first = rng.randrange(0, weeks - count + 1)
        return set(range(first, first + count))
    return set(rng.sample(range(weeks), count))


def make_person(rng: random.Random, pid: str, department: str, profession: str,
                slots: list[dict[str, str]], start: date, weeks: int,
                dense: bool = False) -> dict[str, Any]:
    prof = PROFESSIONS[profession]
    part_time = rng.random() < prof.part_time
    pattern = weekly_pattern(rng, prof, part_time)
    if dense:  # the same draws, then every half-day off or in a fixed clinic becomes clinical
        pattern = ["clinical" if s in ("off", "fixed") else s for s in pattern]
    away = leave_weeks(rng, weeks)
    clinical_cost = float(SLOT_HOURS * prof.rate)
    # ad-hoc unavailability per working day: a whole day (training, sickness) or a half day
    ad_hoc: set[str] = set()
    days = sorted({s["id"][:10] for s in slots})
    for d in days:
        r = rng.random()
        if r < 0.025:
            ad_hoc.update((f"{d}/AM", f"{d}/PM"))
        elif r < 0.065:
            ad_hoc.add(f"{d}/{rng.choice(('AM', 'PM'))}")
    available: dict[str, float] = {}
    for s in slots:
        day = date.fromisoformat(s["id"][:10])
        week = (day - start).days // 7
        state = pattern[2 * day.weekday() + (s["id"].endswith("/PM"))]
        if state in ("off", "fixed") or week in away or s["id"] in ad_hoc:
            continue
        available[s["id"]] = 0.0 if state == "non-clinical" else clinical_cost
    person: dict[str, Any] = {
        "id": pid,
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
        "department": department,
        "available": available,
    }
    # bench-only keys, summarised and removed by generate()
    person["_profession"] = profession
    person["_part_time"] = part_time
    return person


def add_preferences(rng: random.Random, person: dict[str, Any], weekly_load: float) -> None:
    """Optional avoid list (a weekday half they would rather keep free) and caps."""
    if rng.random() < 0.2:
        weekday = rng.choice((0, 0, 4, 4, 1, 2, 3))
        half = rng.choice(("AM", "PM"))
        avoid = [s for s in person["available"]
                 if date.fromisoformat(s[:10]).weekday() == weekday and s.endswith(half)]
        if avoid:
            person["avoid"] = avoid
    if rng.random() < 0.15:
        person["max_per_day"] = 1
    if rng.random() < 0.3:
        person["max_per_week"] = max(2, math.ceil(weekly_load) + 1)


# ---- the problem -----------------------------------------------------------------------------


def generate(size: str, seed: int = 0, start: date = DEFAULT_START,
             groups: bool = False, dense: bool = False) -> dict[str, Any]:
    """A problem dict for size S, M or L; the same (size, seed, start) gives the same dict.
    `dense`: the same people, roles and teams, but nobody has a fixed clinic or a day off in
    their weekly pattern, so most people are available in most slots (all but leave and
    ad-hoc absences): bigger models, and caps that bind more often."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    if start.weekday() != 0:
        raise ValueError(f"start must be a Monday, not {start:%A} {start}")
    spec = SIZES[size]
    rng = random.Random(f"sel-time-bench/{size}/{seed}/{start.isoformat()}")
    end = start + timedelta(weeks=spec.weeks, days=-1)
    closed, holiday_source = england_holidays(start, end)
    slots = make_slots(start, spec.weeks, closed)
    first, last = date.fromisoformat(slots[0]["id"][:10]), date.fromisoformat(slots[-1]["id"][:10])

    region = REGIONS[spec.region]
    boroughs = [(ics, b) for ics, members in region.items() for b in members]
    counts = split_people(spec.people, [b for _, b in boroughs])

    people: list[dict[str, Any]] = []
    departments: list[dict[str, Any]] = []  # id, borough, ics, members
    for (ics, borough), n in zip(boroughs, counts):
        placed = 0
        used: dict[str, int] = {}
        while placed < n:
            setting = weighted(rng, [(s, s.weight) for s in SETTINGS])
            dept_name = rng.choice(setting.departments)
            base = f"{slug(borough)}-{setting.key}-{dept_name}"
            used[base] = used.get(base, 0) + 1
            dept_id = base if used[base] == 1 else f"{base}-{used[base]}"
            members = min(rng.randint(3, 15), n - placed)
            dept = {"id": dept_id, "borough": borough, "ics": ics, "members": []}
            for _ in range(members):
                pid = f"p{len(people) + 1:05d}"
                profession = weighted(rng, setting.mix)
                people.append(make_person(rng, pid, dept_id, profession, slots, start,
                                          spec.weeks, dense))
                if groups:  # fairness groups, as sel-time names them (no random draw)
                    people[-1]["groups"] = [f"profession:{profession}",
                                            f"org:{slug(borough)}-{setting.key}"]
                dept["members"].append(pid)
            departments.append(dept)
            placed += members

    # caps: most departments keep at least part of their leaders on the floor
    caps = []
    for dept in departments:
        if rng.random() < 0.85:
            size_ = len(dept["members"])
            caps.append({"department": dept["id"],
                         "max_away": max(1, min(3, math.ceil(size_ / 5)))})

    # commitments: one or two roles per person, weekly or fortnightly
    commitments = []
    kinds = ((("weekly", 1), 0.45), (("weekly", 2), 0.15), (("fortnightly", 1), 0.25),
             (("fortnightly", 2), 0.15))
    for person in people:
        family = role_family(person["_profession"])
        n_roles = 2 if rng.random() < 0.3 else 1
        names = rng.sample(ROLES[family], n_roles)
        load = 0.0
        for role in names:
            every_name, sessions = weighted(rng, kinds)
            every = 1 if every_name == "weekly" else 2
            max_ = sessions if rng.random() < 0.2 else None
            load += sessions / every
            commitments.append({
                "id": f"c{len(commitments) + 1:05d}",
                "person": person["id"],
                "name": f"{role} ({every_name}, {sessions})",
                "windows": make_windows(start, spec.weeks, every, first, last, sessions, max_),
            })
        add_preferences(rng, person, load)

    teams = make_teams(rng, spec, departments, slots, start, first, last)

    # drop the bench-only keys; keep names (the spec allows additive fields)
    meta_people = {"part_time": sum(p.pop("_part_time") for p in people),
                   "professions": {}}
    for p in people:
        prof = p.pop("_profession")
        meta_people["professions"][prof] = meta_people["professions"].get(prof, 0) + 1
    log.info("%s seed %d: %d people, %d slots (%s to %s, bank holidays from %s), "
             "%d commitments, %d teams, %d caps; %s", size, seed, len(people), len(slots),
             first, last, holiday_source, len(commitments), len(teams), len(caps), meta_people)
    return {
        "format": PROBLEM_FORMAT,
        "timezone": "Europe/London",
        "slots": slots,
        "people": people,
        "commitments": commitments,
        "teams": teams,
        "caps": caps,
        "pinned": [],
        "previous": [],
        "weights": {"shortfall": 5000, "absence": 200, "churn": 50, "avoid": 25},
    }


def make_teams(rng: random.Random, spec: Size, departments: list[dict[str, Any]],
               slots: list[dict[str, str]], start: date, first: date,
               last: date) -> list[dict[str, Any]]:
    """Teams of 5-12 drawn across departments (one per department where possible), mostly
    within a borough, a tenth across an ICS; monthly (4-weekly) windows; a third meet only on
    a fixed weekday half (e.g. Wednesdays PM)."""
    by_borough: dict[str, list[dict[str, Any]]] = {}
    by_ics: dict[str, list[dict[str, Any]]] = {}
    for dept in departments:
        by_borough.setdefault(dept["borough"], []).append(dept)
        by_ics.setdefault(dept["ics"], []).append(dept)
    boroughs = list(by_borough)
    load: dict[str, int] = {}  # memberships so far, to spread teams across people
    teams = []
    for t in range(spec.teams):
        system = len(boroughs) > 1 and rng.random() < 0.1
        if system:
            ics = rng.choice(list(by_ics))
            pool, area = by_ics[ics], ics
        else:
            borough = rng.choices(boroughs, weights=[sum(len(d["members"]) for d in
                                                         by_borough[b]) for b in boroughs])[0]
            pool, area = by_borough[borough], borough
        size = rng.randint(5, 12)
        # the least-loaded people first (random among equals), one per department while possible
        candidates = [(p, dept["id"]) for dept in pool for p in dept["members"]]
        keys = {p: (load.get(p, 0), rng.random()) for p, _ in candidates}
        candidates.sort(key=lambda pd: keys[pd[0]])
        members: list[str] = []
        seen_depts: set[str] = set()
        for p, dept_id in candidates:
            if len(members) < size and dept_id not in seen_depts:
                members.append(p)
                seen_depts.add(dept_id)
        for p, _ in candidates:
            if len(members) < size and p not in members:
                members.append(p)
        for p in members:
            load[p] = load.get(p, 0) + 1
        quorum = min(len(members), math.ceil(len(members) * rng.uniform(0.5, 0.7)))
        team: dict[str, Any] = {
            "id": f"t{t + 1:04d}",
            "name": f"{area} {rng.choice(TEAM_TOPICS)} {rng.choice(TEAM_KINDS)}",
            "members": sorted(members),
            "quorum": quorum,
            "windows": make_windows(start, spec.weeks, 4, first, last,
                                    2 if rng.random() < 0.1 else 1),
        }
        if rng.random() < 0.35:
            options = [(rng.choice((1, 2, 2, 3)), rng.choice(("AM", "PM")))]
            if rng.random() < 0.3:
                options.append((rng.choice((0, 1, 3, 4)), rng.choice(("AM", "PM"))))
            team["slots"] = [s["id"] for s in slots
                             if (date.fromisoformat(s["id"][:10]).weekday(), s["id"][-2:])
                             in options]
            team["name"] += " (" + ", ".join(f"{WEEKDAYS[d]}s {h}" for d, h in options) + ")"
        teams.append(team)
    return teams


# ---- command line --------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("size", choices=sorted(SIZES), help="S, M or L")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START,
                        help="first Monday of the horizon (default %(default)s)")
    parser.add_argument("--dense", action="store_true",
                        help="most people available in most slots (no fixed clinics, no days off)")
    parser.add_argument("-o", "--output", help="file to write (default stdout)")
    parser.add_argument("--indent", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        problem = generate(args.size, args.seed, args.start, dense=args.dense)
    except ValueError as exc:
        parser.error(str(exc))
    text = json.dumps(problem, indent=args.indent, separators=None if args.indent else (",", ":"))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
