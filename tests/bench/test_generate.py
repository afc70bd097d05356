"""The benchmark generator: deterministic for a seed, realistic in shape, valid for the solver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.generate import PROFESSIONS, SIZES, generate, main  # noqa: E402


@pytest.fixture(scope="module")
def small() -> dict:
    return generate("S", seed=7)


def test_same_seed_same_problem() -> None:
    assert generate("S", seed=3) == generate("S", seed=3)


def test_other_seed_other_problem() -> None:
    assert generate("S", seed=3) != generate("S", seed=4)


def test_same_bytes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"s{hash_seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "bench.generate", "S", "--seed", "5", "-o",
                        str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_cli_writes_the_problem(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    assert main(["S", "--seed", "2", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == generate("S", seed=2)


def test_slots_are_weekday_halves_without_bank_holidays(small: dict) -> None:
    ids = [s["id"] for s in small["slots"]]
    days = {date.fromisoformat(i[:10]) for i in ids}
    assert all(d.weekday() < 5 for d in days)
    # Good Friday, Easter Monday and the early May bank holiday 2026 fall in the S horizon
    assert not days & {date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4)}
    assert len(days) == 8 * 5 - 3 and len(ids) == 2 * len(days)
    assert ids == sorted(ids)
    for s in small["slots"]:
        half = s["id"][-2:]
        assert (s["start"][11:], s["end"][11:]) == (
            ("09:00", "13:00") if half == "AM" else ("13:00", "17:00"))


def test_sizes_match_the_issue() -> None:
    assert (SIZES["S"].people, SIZES["S"].weeks) == (60, 8)
    assert (SIZES["M"].people, SIZES["M"].weeks, SIZES["M"].teams) == (600, 12, 40)
    assert (SIZES["L"].people, SIZES["L"].weeks, SIZES["L"].teams) == (6000, 12, 400)


@pytest.mark.slow
def test_medium_has_its_size() -> None:
    problem = generate("M", seed=1)
    assert len(problem["people"]) == 600
    assert len(problem["teams"]) == 40
    assert len({p["department"] for p in problem["people"]}) > 20


def test_people_look_like_leaders(small: dict) -> None:
    slot_ids = {s["id"] for s in small["slots"]}
    costs = {0.0} | {4.0 * p.rate for p in PROFESSIONS.values()}
    per_person = {p["id"]: 0 for p in small["people"]}
    for c in small["commitments"]:
        per_person[c["person"]] += 1
    assert set(per_person.values()) <= {1, 2}
    for person in small["people"]:
        assert person["name"] and person["department"]
        assert set(person["available"]) <= slot_ids
        assert set(person["available"].values()) <= costs
        assert set(person.get("avoid", [])) <= set(person["available"])
    # everyone has non-clinical (free) time; few are available in every slot
    assert all(0.0 in p["available"].values() for p in small["people"])
    always = [p for p in small["people"] if len(p["available"]) == len(slot_ids)]
    assert len(always) < len(small["people"]) / 10


def test_windows_weekly_or_fortnightly_within_the_horizon(small: dict) -> None:
    first, last = small["slots"][0]["id"][:10], small["slots"][-1]["id"][:10]
    for c in small["commitments"]:
        assert len(c["windows"]) in (4, 8)  # fortnights or weeks of 8 weeks
        assert all(first <= w["from"] <= w["to"] <= last for w in c["windows"])
        assert all(w["sessions"] in (1, 2) for w in c["windows"])
        assert all(w["from"] > v["to"] for v, w in zip(c["windows"], c["windows"][1:]))


def test_teams_and_caps(small: dict) -> None:
    departments = {p["department"] for p in small["people"]}
    for team in small["teams"]:
        assert 5 <= len(team["members"]) <= 12
        assert len(set(team["members"])) == len(team["members"])
        assert 1 <= team["quorum"] <= len(team["members"])
        assert len(team["windows"]) == 2  # four-weekly over 8 weeks
    for cap in small["caps"]:
        assert cap["department"] in departments and 1 <= cap["max_away"] <= 3


def test_start_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        generate("S", start=date(2026, 4, 1))


def test_small_validates_with_the_solver(small: dict) -> None:
    io = pytest.importorskip("solver.io")
    problem = io.parse_problem(small)
    assert len(problem.people) == 60
    assert len(problem.slots) == len(small["slots"])


def test_groups_name_each_persons_profession_and_organisation_and_change_nothing_else() -> None:
    plain, grouped = generate("S", seed=3), generate("S", seed=3, groups=True)
    assert all(len(p["groups"]) == 2 and p["groups"][0].startswith("profession:")
               and p["groups"][1].startswith("org:") for p in grouped["people"])
    for p in grouped["people"]:
        del p["groups"]
    assert grouped == plain


def test_the_dense_variant_has_the_same_people_available_in_most_slots() -> None:
    plain, dense = generate("S", seed=3), generate("S", seed=3, dense=True)
    assert [p["id"] for p in dense["people"]] == [p["id"] for p in plain["people"]]
    assert dense["commitments"] == plain["commitments"] and dense["teams"] == plain["teams"]
    slots = len(plain["slots"])
    for p, d in zip(plain["people"], dense["people"]):
        assert set(p["available"]) <= set(d["available"])  # only more, never fewer
    share = sum(len(p["available"]) for p in dense["people"]) / (len(dense["people"]) * slots)
    plain_share = sum(len(p["available"]) for p in plain["people"]) / (len(plain["people"]) * slots)
    assert share > 0.8 > plain_share


def test_cli_writes_the_dense_variant(tmp_path: Path) -> None:
    out = tmp_path / "dense.json"
    assert main(["S", "--seed", "3", "--dense", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == generate("S", seed=3, dense=True)
