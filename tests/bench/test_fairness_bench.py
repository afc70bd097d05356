"""The fairness bench's measures: the professions' spread and the scarce-slot variant."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench.fairness_bench import professions_only, spread, tighten  # noqa: E402


def test_spread_is_worst_minus_best_share_of_professions_only() -> None:
    groups = [{"group": "profession:nurse", "entitled": 10, "short": 5},
              {"group": "profession:gp", "entitled": 20, "short": 0},
              {"group": "org:kch", "entitled": 4, "short": 4},
              {"group": "profession:ahp", "entitled": 0, "short": 0}]
    assert spread(groups) == 50.0
    assert spread(groups[:1]) == 0.0


def test_tighten_caps_every_department_at_one_and_prof_drops_org_groups() -> None:
    problem = {"people": [{"id": "p1", "department": "a", "groups": ["profession:gp", "org:x"]},
                          {"id": "p2", "department": "b"}, {"id": "p3"}],
               "caps": [{"department": "a", "max_away": 3},
                        {"department": "a", "max_away": 0, "slots": ["s1"]}]}
    assert tighten(problem)["caps"] == [{"department": "a", "max_away": 1},
                                        {"department": "a", "max_away": 0, "slots": ["s1"]},
                                        {"department": "b", "max_away": 1}]
    assert professions_only(problem)["people"][0]["groups"] == ["profession:gp"]
    assert problem["caps"][0]["max_away"] == 3  # the original is left as it was


def test_gap_is_relative_to_the_objective() -> None:
    from bench.fairness_bench import gap

    assert gap(200.0, 150.0) == 0.25
    assert gap(100.0, 100.0) == 0.0
    assert gap(100.0, None) == 1.0
