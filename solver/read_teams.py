"""Reading a problem's teams, caps, pins and previous plan, and its weights."""

from __future__ import annotations

from datetime import date

from solver.model import (
    Cap,
    Team,
    Weights,
)
from solver.read_people import _parse_windows
from solver.reader import Entry, JSONObject, _items, _q, _Reader, _slot_ref, _unique_id


def _parse_teams(
    r: _Reader,
    root: JSONObject,
    person_ids: set[str],
    slot_ids: set[str],
    horizon: tuple[date, date] | None,
) -> tuple[list[Team], set[str]]:
    out = []
    seen: dict[str, str] = {}
    for path, d in _items(r, root, "teams"):
        ident = _unique_id(r, d, path, seen)
        ok = ident is not None
        members: list[str] = []
        lst = r.lst(d.get("members"), f"{path}.members")
        if lst is None:
            ok = False
        else:
            for j, m in enumerate(lst):
                s = r.string(m, f"{path}.members[{j}]")
                if s is None:
                    ok = False
                elif s not in person_ids:
                    r.err(f"{path}.members[{j}]", f"unknown person {_q(s)}")
                    ok = False
                elif s in members:
                    r.err(f"{path}.members[{j}]", f"duplicate member {_q(s)}")
                    ok = False
                else:
                    members.append(s)
        quorum = r.integer(d.get("quorum"), f"{path}.quorum", minimum=None)
        if quorum is None:
            ok = False
        elif quorum < 1:
            r.err(f"{path}.quorum", f"quorum {quorum} is below 1")
            ok = False
        elif lst is not None and quorum > len(lst):
            r.err(f"{path}.quorum", f"quorum {quorum} is above the team size {len(lst)}")
            ok = False
        windows = _parse_windows(r, d, path, horizon, check_overlap=False)
        ok = ok and windows is not None
        allowed: frozenset[str] | None = None
        if d.get("slots") is not None:
            allowed, slots_ok = _slot_subset(r, d["slots"], f"{path}.slots", slot_ids)
            ok = ok and slots_ok
        name = r.opt_string(d, "name", path)
        if ok and ident is not None and quorum is not None and windows is not None:
            out.append(Team(ident, tuple(members), quorum, tuple(windows), allowed, name))
    return out, set(seen)


def _slot_subset(
    r: _Reader, value: object, path: str, slot_ids: set[str]
) -> tuple[frozenset[str] | None, bool]:
    """A team's or a cap's ``slots``: the known slot ids it names, and whether all were valid
    (each unknown or malformed one reported at ``path``)."""
    sl = r.lst(value, path)
    if sl is None:
        return None, False
    found: set[str] = set()
    ok = True
    for j, sid in enumerate(sl):
        s = r.string(sid, f"{path}[{j}]")
        if s is not None and s not in slot_ids:
            r.err(path, f"unknown slot {_q(s)}")
            ok = False
        elif s is not None:
            found.add(s)
    return frozenset(found), ok


def _parse_caps(r: _Reader, root: JSONObject, slot_ids: set[str]) -> list[Cap]:
    """Caps; one naming a department that no person has is vacuous (kept, it binds nobody)."""
    out = []
    for path, d in _items(r, root, "caps"):
        dept = r.string(d.get("department"), f"{path}.department")
        max_away = r.integer(d.get("max_away"), f"{path}.max_away")
        allowed: frozenset[str] | None = None
        ok = True
        if d.get("slots") is not None:
            allowed, slots_ok = _slot_subset(r, d["slots"], f"{path}.slots", slot_ids)
            ok = ok and slots_ok
        if ok and dept is not None and max_away is not None:
            out.append(Cap(dept, max_away, allowed))
    return out


def _parse_entries(
    r: _Reader,
    root: JSONObject,
    key: str,
    cls: type[Entry],
    person_ids: set[str],
    team_ids: set[str],
    commitment_person: dict[str, str],
    slot_ids: set[str],
) -> list[Entry]:
    out: list[Entry] = []
    for path, d in _items(r, root, key):
        ok = True
        slot = _slot_ref(r, d.get("slot"), f"{path}.slot", slot_ids)
        ok = slot is not None
        person = r.opt_string(d, "person", path)
        team = r.opt_string(d, "team", path)
        commitment = r.opt_string(d, "commitment", path)
        if person is None and team is None:
            if d.get("person") is None and d.get("team") is None:
                r.err(path, "needs a person or a team")
            ok = False
        if person is not None and person not in person_ids:
            r.err(f"{path}.person", f"unknown person {_q(person)}")
            ok = False
        if team is not None and team not in team_ids:
            r.err(f"{path}.team", f"unknown team {_q(team)}")
            ok = False
        if commitment is not None:
            if commitment not in commitment_person:
                r.err(f"{path}.commitment", f"unknown commitment {_q(commitment)}")
                ok = False
            elif team is not None:
                r.err(f"{path}.commitment", "a team entry has no commitment")
                ok = False
            elif person is not None and commitment_person[commitment] != person:
                r.err(
                    f"{path}.commitment",
                    f"commitment {_q(commitment)} belongs to "
                    f"{_q(commitment_person[commitment])}, not {_q(person)}",
                )
                ok = False
        if ok and slot is not None:
            out.append(cls(slot=slot, person=person, commitment=commitment, team=team))
    return out


def _parse_weights(r: _Reader, root: JSONObject) -> Weights:
    if root.get("weights") is None:
        return Weights()
    d = r.obj(root["weights"], "weights")
    if d is None:
        return Weights()
    values = {}
    for key in ("shortfall", "absence", "churn", "avoid", "fairness"):
        if d.get(key) is not None:
            v = r.number(d[key], f"weights.{key}", "weight")
            if v is not None:
                values[key] = v
    return Weights(**values)
