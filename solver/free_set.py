"""Which part of a published plan a change frees: the people and slots an incremental re-solve
may move, grown round by round until what stays fixed breaks nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from solver.model import Problem

MAX_ROUNDS = 50  # rounds of "touch what the fixed part breaks"; each round only grows the set


@dataclass
class Published:
    """The plan now published: sessions (person, slot) -> commitment (None when the entry
    names none) and meetings (team, slot) -> attendees (None when not named)."""

    sessions: dict[tuple[str, int], str | None] = field(default_factory=dict)
    meetings: dict[tuple[str, int], tuple[str, ...] | None] = field(default_factory=dict)


def _departments(problem: Problem, people: Iterable[str]) -> set[str]:
    """Everyone sharing a capped department with one of `people`."""
    out: set[str] = set()
    for p in people:
        dept = problem.person[p].department
        if dept is not None and dept in problem.caps_of_department:
            out.update(problem.department_people[dept])
    return out


@dataclass
class _Split:
    """The published plan split into what is decided again and what is held."""

    touched_people: set[str]
    touched_teams: set[str]
    people: set[str] = field(default_factory=set)  # free
    teams: set[str] = field(default_factory=set)  # free
    sessions: dict[tuple[str, int], str] = field(default_factory=dict)  # fixed, labelled
    meetings: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)  # fixed
    open: list[tuple[str, int]] = field(default_factory=list)  # fixed, attendees to choose
    held: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # activities held

    departments: bool = False  # also free department-mates (their sessions only)

    def close(self, problem: Problem) -> None:
        """Free sets from the touched ones: their teams, and those teams' members (and, with
        `departments`, everyone sharing a capped department with a free person)."""
        self.teams = set(self.touched_teams)
        for p in self.touched_people:
            self.teams.update(t.id for t in problem.teams_of.get(p, ()))
        self.people = set(self.touched_people)
        for t in self.teams:
            self.people.update(problem.team[t].members)
        if self.departments:
            self.people |= _departments(problem, self.people)


def _label(problem: Problem, p: str, s: int) -> str | None:
    """A commitment for a published session that names none: the first of the person's
    commitments with a window over the slot, else their first."""
    coms = problem.commitments_of.get(p, ())
    for c in coms:
        if any(lo <= s < hi for lo, hi in problem.commitment_ranges[c.id]):
            return c.id
    return coms[0].id if coms else None


def _split(problem: Problem, pub: Published, split: _Split) -> tuple[set[str], set[str]]:
    """Fill the fixed part of `split` from its free sets; returns the people and teams
    whose held entries break a hard rule (to be touched)."""
    avail = problem.available_idx
    days, weeks = problem.slot_days, problem.slot_weeks
    bad_p: set[str] = set()
    bad_t: set[str] = set()
    split.sessions, split.meetings, split.open = {}, {}, []
    held: dict[tuple[str, int], list[str]] = defaultdict(list)  # (p, s) -> "c:"/"t:" keys
    for (p, s), c in pub.sessions.items():
        if p in split.people:
            continue
        if c is None:
            c = _label(problem, p, s)
        if c is None or s not in avail.get(p, {}) or problem.commitment[c].person != p:
            bad_p.add(p)
            continue
        split.sessions[(p, s)] = c
        held[(p, s)].append(f"c:{c}")
    for (t, s), attendees in pub.meetings.items():
        if t in split.teams:
            continue
        team = problem.team[t]
        allowed = problem.team_allowed[t]
        if allowed is not None and s not in allowed:
            bad_t.add(t)
            continue
        if attendees is None:
            split.open.append((t, s))
            continue
        if (
            any(m not in team.members or s not in avail.get(m, {}) for m in attendees)
            or len(set(attendees)) < team.quorum
        ):
            bad_t.add(t)
            continue
        split.meetings[(t, s)] = attendees
        for m in attendees:
            held[(m, s)].append(f"t:{t}")
    split.held = held
    # Open meetings need a quorum of members free in their slot.
    for t, s in split.open:
        team = problem.team[t]
        free = [m for m in team.members if s in avail[m] and (m, s) not in held]
        if len(free) < team.quorum:
            bad_t.add(t)
    # Rule 1 among held entries.
    for (p, s), acts in held.items():
        if len(acts) > 1:
            if p not in split.people and any(a.startswith("c:") for a in acts):
                bad_p.add(p)
            else:
                bad_t.update(a[2:] for a in acts if a.startswith("t:"))
    # Rule 5: day and week limits, window maxima.
    load: dict[tuple[str, str, object], list[tuple[int, str]]] = defaultdict(list)
    for (p, s), acts in held.items():
        for a in acts:
            load[(p, "d", days[s])].append((s, a))
            load[(p, "w", weeks[s])].append((s, a))
    for (p, kind, _), timed in load.items():
        person = problem.person[p]
        limit = person.max_per_day if kind == "d" else person.max_per_week
        if limit is not None and len(timed) > limit:
            if p not in split.people and any(a.startswith("c:") for _, a in timed):
                bad_p.add(p)
            else:
                bad_t.update(a[2:] for _, a in timed if a.startswith("t:"))
    window: dict[tuple[str, int], int] = defaultdict(int)
    for (p, s), c in split.sessions.items():
        for wi, (lo, hi) in enumerate(problem.commitment_ranges[c]):
            if lo <= s < hi:
                window[(c, wi)] += 1
    for (c, wi), n in window.items():
        mx = problem.commitment[c].windows[wi].max
        if mx is not None and n > mx:
            bad_p.add(problem.commitment[c].person)
    team_window: dict[tuple[str, int], int] = defaultdict(int)
    for t, s in [*split.meetings, *split.open]:
        for wi, (lo, hi) in enumerate(problem.team_ranges[t]):
            if lo <= s < hi:
                team_window[(t, wi)] += 1
    for (t, wi), n in team_window.items():
        mx = problem.team[t].windows[wi].max
        if mx is not None and n > mx:
            bad_t.add(t)
    # Rule 4: caps filled by held entries alone.
    if problem.caps:
        away: dict[tuple[str, int], list[tuple[str, list[str]]]] = defaultdict(list)
        for (p, s), acts in held.items():
            dept = problem.person[p].department
            if dept is not None and dept in problem.caps_of_department:
                away[(dept, s)].append((p, acts))
        for (dept, s), who in away.items():
            sid = problem.slots[s].id
            for ci in problem.caps_of_department[dept]:
                cap = problem.caps[ci]
                if cap.covers(sid) and len(who) > cap.max_away:
                    sessions = [p for p, acts in who if p not in split.people
                                and any(a.startswith("c:") for a in acts)]
                    if sessions:
                        bad_p.update(sessions)
                    else:
                        bad_t.update(a[2:] for _, acts in who for a in acts if a[:2] == "t:")
    # Rule 6: pins on held entries.
    idx = problem.slot_index
    for pin in problem.pinned:
        s = idx[pin.slot]
        if pin.team is None:
            # a person's pin (parse_problem gives every pin a person or a team)
            if pin.person is None or pin.person in split.people:
                continue
            c = split.sessions.get((pin.person, s))
            if c is None or (pin.commitment is not None and c != pin.commitment):
                bad_p.add(pin.person)
        elif pin.team not in split.teams:
            if (pin.team, s) in split.open:
                if pin.person is not None and s not in avail.get(pin.person, {}):
                    bad_t.add(pin.team)
                continue
            att = split.meetings.get((pin.team, s))
            if att is None or (pin.person is not None and pin.person not in att):
                bad_t.add(pin.team)
    return bad_p - split.touched_people, bad_t - split.touched_teams


def _free_set(
    problem: Problem, pub: Published, people: set[str], teams: set[str], departments: bool
) -> _Split:
    """Touch whatever the fixed part breaks until it holds."""
    split = _Split(set(people), set(teams), departments=departments)
    for _ in range(MAX_ROUNDS):
        split.close(problem)
        bad_p, bad_t = _split(problem, pub, split)
        if not bad_p and not bad_t:
            return split
        split.touched_people |= bad_p
        split.touched_teams |= bad_t
    # Cannot happen in practice (each round grows the set); free everything that is left.
    split.touched_people = {p.id for p in problem.people}
    split.touched_teams = {t.id for t in problem.teams}
    split.close(problem)
    _split(problem, pub, split)
    return split
