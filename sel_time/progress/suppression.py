"""Statistical disclosure control for survey results: no published cell with fewer than *k*
respondents, and no withheld cell that can be worked out from what is published, even by a
reader who knows this rule (the rule is public: it is on every results page).

A table is a set of groups that partition the respondents (every profession group, say) and
its total. Each group of *k* or more is published. The groups under *k* (an empty group too)
are withheld, and published together as one "other groups" cell when that is safe: at least
two of them, together at least *k*, and together fewer than (number of them) × (*k* − 1) (at
exactly that, every one of them would have to hold *k* − 1). Otherwise, since the total less
the published groups would give the withheld groups away, every group of the table is
withheld and only its total is published. A total under *k* withholds the whole table.

A wave publishes several breakdowns of the same respondents (profession group, organisation
kind, borough), and whoever knows who was invited knows how they overlap: a group withheld in
one breakdown could be worked out from the groups shown in the others (Bexley's count less the
nurses', when every nurse works in Bexley). So :func:`suppress_breakdowns`, which the results
use, shows the breakdowns together or not at all: all of them when no group of any is under
*k*, else none (the total only). tests/progress/test_suppression_across_breakdowns.py proves
it with an exact attacker. One limit remains, with or without a second breakdown: a reader who
uses the number invited in each group as a ceiling can pin a withheld count when a group's
every invitee answered; that gives away a count, never an answer.

Pure functions: no Flask, no database.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_K = 11  # as the NHS Staff Survey
MIN_K = 5


def checked_k(k: int) -> int:
    """``k`` as configured; never below :data:`MIN_K`."""
    if isinstance(k, bool) or not isinstance(k, int) or k < MIN_K:
        raise ValueError(f"the suppression threshold must be a whole number of at least {MIN_K}")
    return k


@dataclass(frozen=True)
class Table:
    """Which groups of a table are published (their counts) and which are withheld."""

    published: dict[str, int]
    withheld: frozenset[str]
    total: int | None  # None when the whole table is withheld
    k: int
    others: int | None = None  # the withheld groups together, when that may be shown

    def shown(self, group: str) -> bool:
        return group in self.published


def suppress(counts: Mapping[str, int], k: int = DEFAULT_K) -> Table:
    """Suppression of one table of respondent counts (see the module's rule)."""
    k = checked_k(k)
    total = sum(counts.values())
    if total < k:
        return Table({}, frozenset(counts), None, k)
    small = {g for g, n in counts.items() if n < k}
    if not small:
        return Table(dict(counts), frozenset(), total, k)
    hidden = sum(counts[g] for g in small)
    if len(small) >= 2 and k <= hidden < len(small) * (k - 1):
        published = {g: n for g, n in counts.items() if g not in small}
        return Table(published, frozenset(small), total, k, others=hidden)
    return Table({}, frozenset(counts), total, k)


def recode(invited: Mapping[str, int], k: int = DEFAULT_K) -> dict[str, str]:
    """Which published group each group of a breakdown is counted in. Groups with fewer than
    2 × *k* people invited are counted together ("Combined: …"), with the next smallest
    groups until that has 2 × *k* invited. It depends only on who was invited (known before
    anyone answers), so it tells a reader nothing about the answers; suppression then works
    on the combined groups."""
    k = checked_k(k)
    order = sorted(invited, key=lambda g: (invited[g], g))
    small = [g for g in order if invited[g] < 2 * k]
    if not small:
        return {g: g for g in invited}
    size = sum(invited[g] for g in small)
    rest = [g for g in order if g not in small]
    while size < 2 * k and rest:
        g = rest.pop(0)
        small.append(g)
        size += invited[g]
    if len(small) == 1:
        return {g: g for g in invited}
    name = "Combined: " + ", ".join(sorted(small))
    return {g: (name if g in small else g) for g in invited}


def suppress_breakdowns(invited: Mapping[tuple[str, ...], int],
                        responded: Mapping[tuple[str, ...], int],
                        k: int = DEFAULT_K, *, width: int | None = None,
                        ) -> tuple[list[dict[str, str]], list[Table]]:
    """Every breakdown of one wave (``width`` of them), suppressed together. ``invited`` and
    ``responded`` count people by their groups in every breakdown at once (a tuple, one group
    per breakdown).

    Each breakdown's small groups are first counted together (:func:`recode`, from the
    invitations). Then the breakdowns are published together or not at all: when every group
    of every breakdown has *k* or more, all are shown; when any group of any breakdown has
    fewer, every group of every breakdown is withheld and only the total is shown. Suppressing
    each breakdown on its own is not enough: whoever knows who was invited (their profession,
    organisation and borough) can work a withheld group of one breakdown out of the groups
    shown in the others (a borough's count less a profession's, say), so no breakdown shows a
    group while another withholds one. Returns, per breakdown, which published group each
    group is counted in, and its table."""
    k = checked_k(k)
    if width is None:
        width = len(next(iter(invited))) if invited else 0
    codes: list[dict[str, str]] = []
    counts: list[dict[str, int]] = []
    for i in range(width):
        marginal = Counter[str]()
        for cell, n in invited.items():
            marginal[cell[i]] += n
        code = recode(dict(marginal), k)
        per = Counter[str]({g: 0 for g in code.values()})
        for cell, n in responded.items():
            per[code.get(cell[i], cell[i])] += n
        codes.append(code)
        counts.append(dict(sorted(per.items())))
    tables = [suppress(c, k) for c in counts]
    if any(t.withheld for t in tables):
        tables = [Table({}, frozenset(c), t.total, k) for c, t in zip(counts, tables, strict=True)]
    return codes, tables


__all__: Sequence[str] = ("DEFAULT_K", "MIN_K", "Table", "checked_k", "recode", "suppress",
                          "suppress_breakdowns")
