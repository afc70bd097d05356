"""Hypothesis plays the attacker: for any table of group counts (and any response sets, end to
end through the results), no published cell is under k, and no withheld value can be worked
out from what is published, even by someone who knows the suppression rule."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sel_time.core.extensions import db
from sel_time.progress import results
from sel_time.progress.models import Answer, Invitation, Response, WaveStatus
from sel_time.progress.suppression import MIN_K, Table, checked_k, recode, suppress

GROUPS = ["Medical", "Nursing", "AHP", "Social care", "Other"]


def _splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way to share ``total`` among ``parts`` groups."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _splits(total - first, parts - 1):
            yield (first, *rest)


def _consistent(table: Table, groups: list[str], k: int) -> list[dict[str, int]]:
    """Every count table an attacker cannot tell apart from the true one: the same groups
    published with the same counts, the same total, and the same cells withheld by the rule."""
    if table.total is None:
        return []
    hidden = sorted(table.withheld)
    rest = table.total - sum(table.published.values())
    out = []
    for values in _splits(rest, len(hidden)):
        counts = {**table.published, **dict(zip(hidden, values))}
        again = suppress({g: counts[g] for g in groups}, k)
        if (again.published, again.withheld, again.others) == (
                table.published, table.withheld, table.others):
            out.append(counts)
    return out


@settings(max_examples=150, deadline=None)
@given(counts=st.lists(st.integers(0, 24), min_size=1, max_size=4),
       k=st.integers(MIN_K, 12))
def test_no_cell_under_k_and_no_withheld_value_recoverable(counts: list[int], k: int) -> None:
    groups = GROUPS[: len(counts)]
    table = suppress(dict(zip(groups, counts)), k)
    assert all(n >= k for n in table.published.values())
    if table.total is not None:
        assert table.total >= k
        hidden = table.total - sum(table.published.values())
        # Withheld groups shown together are a cell of their own: at least k, two or more.
        assert table.others is None or (len(table.withheld) >= 2 and hidden == table.others >= k)
        # Groups withheld beside published ones add up to at least k (or nothing is shown).
        assert not (table.withheld and table.published) or hidden >= k
        possible = _consistent(table, groups, k)
        assert dict(zip(groups, counts)) in possible
        for g in table.withheld:
            assert len({c[g] for c in possible}) >= 2, (
                f"{g} is {counts[groups.index(g)]} in every table consistent with "
                f"{table.published} and total {table.total}")
    else:
        assert table.published == {}


def test_k_is_never_below_five() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        checked_k(4)
    assert suppress({"a": 12, "b": 4}, 11).withheld == {"a", "b"}


def test_one_small_group_beside_published_ones_withholds_the_whole_breakdown() -> None:
    t = suppress({"Medical": 3, "Nursing": 40, "Social care": 20}, 11)
    assert t.published == {} and t.total == 63  # 63 - 40 - 20 would give Medical away
    t = suppress({"Medical": 6, "AHP": 7, "Nursing": 40}, 11)
    assert t.published == {"Nursing": 40} and t.others == 13
    t = suppress({"Medical": 10, "AHP": 10, "Nursing": 40}, 11)  # 20 = 2 × 10: both pinned
    assert t.published == {} and t.others is None


def _answered(answered: list[Any], key: str, k: int) -> Counter[str]:
    """How many answered in each (combined) group of a breakdown."""
    index = ("profession_group", "organisation_kind", "borough").index(key)
    invited = Counter(getattr(i, key) for i in db.session.query(Invitation))
    codes = recode(invited, k)
    return Counter(codes.get(b[index], b[index]) for b in answered)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ballots=st.lists(
    st.tuples(st.sampled_from(["Medical", "Nursing and midwifery", "Social care"]),
              st.sampled_from(["Hospital trust", "Local authority (social care)"]),
              st.sampled_from(["Lambeth", "Bexley", "Southwark"]),
              st.one_of(st.none(), st.integers(1, 5))),
    min_size=0, max_size=40))
def test_published_results_of_any_response_set_hold_no_cell_under_k(
        app: Flask, wave_with_links: Callable[..., Any], ballots: list[Any]) -> None:
    wave, _ = wave_with_links(["time-protected"])
    db.session.query(Answer).delete()
    db.session.query(Response).delete()
    q = wave.survey.questions[0]
    for prof, kind, borough, score in ballots:
        r = Response(wave_id=wave.id, received_on=wave.opens_on, profession_group=prof,
                     organisation_kind=kind, borough=borough)
        if score is not None:
            r.answers.append(Answer(question_id=q.id, score=score))
        db.session.add(r)
    wave.status = WaveStatus.CLOSED
    db.session.flush()
    k = 11
    out = results.wave_results(wave, k)
    answered = [b for b in ballots if b[3] is not None]
    overall = out["questions"][0]["overall"]
    assert (overall is None) == (len(answered) < k)
    for index, key in enumerate(("profession_group", "organisation_kind", "borough")):
        cells = out["questions"][0]["by"][key]
        invited = Counter(getattr(i, key) for i in db.session.query(Invitation)
                          .filter_by(wave_id=wave.id))
        codes = recode(invited, k)
        truth = Counter(codes.get(b[index], b[index]) for b in answered)
        shown = {c["group"]: c["n"] for c in cells if not c["withheld"] and not c.get("others")}
        combined = [c["n"] for c in cells if c.get("others")]
        assert all(n >= k for n in shown.values()) and all(n >= k for n in combined)
        assert all(shown[g] == truth[g] for g in shown)
        hidden = [c["group"] for c in cells if c["withheld"]]
        # The breakdowns are shown together or not at all (see
        # test_suppression_across_breakdowns): a group is withheld only when every group of
        # every breakdown is, and then because some group of some breakdown is under k.
        by = out["questions"][0]["by"]
        everything_hidden = all(c["withheld"] for cs in by.values() for c in cs)
        assert not hidden or everything_hidden
        if everything_hidden and overall is not None:  # some group of some breakdown is small
            assert any(_answered(answered, key2, k)[c["group"]] < k
                       for key2, cs in by.items() for c in cs)
        rates = out["breakdowns"][key]["groups"]
        assert all(g["responses"] is None or g["responses"] >= k for g in rates)
    # The next example starts from nothing.
    for table in ("survey_answer", "survey_response", "survey_invitation", "survey_wave",
                  "survey_question", "survey"):
        db.session.execute(db.metadata.tables[table].delete())
    db.session.commit()


def test_small_groups_are_counted_together_from_the_invitations_alone() -> None:
    codes = recode({"Bexley": 23, "Bromley": 17, "Greenwich": 10, "System-wide": 7}, 11)
    combined = "Combined: Bromley, Greenwich, System-wide"
    assert codes == {"Bexley": "Bexley", "Bromley": combined, "Greenwich": combined,
                     "System-wide": combined}
    # One small group alone is counted with the next smallest.
    assert recode({"A": 5, "B": 30, "C": 40}, 11) == {"A": "Combined: A, B",
                                                     "B": "Combined: A, B", "C": "C"}
    assert recode({"A": 30, "B": 40}, 11) == {"A": "A", "B": "B"}


def test_the_app_refuses_to_start_with_a_threshold_under_five(tmp_path: Any) -> None:
    from config import TestingConfig
    from sel_time import create_app
    from sel_time.core.startup import ConfigurationError

    with pytest.raises(ConfigurationError, match="SEL_TIME_SURVEY_MIN_GROUP is 4"):
        create_app(TestingConfig, SURVEY_MIN_GROUP=4,
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'k.sqlite'}")
