"""Statistical disclosure control for survey results: no published cell with fewer than *k*
respondents, and no withheld cell that can be worked out from what is published.

A table is a set of groups that partition the respondents (every profession group, say), and
its total. Primary suppression withholds each group under *k* (an empty group too: "none" is a
count under *k*). Secondary suppression then withholds more groups, smallest first, until the
withheld groups together hold at least *k* respondents and are at least two: otherwise the
total minus the published groups would give the one withheld group's count, or the few
withheld respondents' answers. A total under *k* withholds the whole table.

Pure functions: no Flask, no database.
"""
from __future__ import annotations

from collections.abc import Mapping
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

    def shown(self, group: str) -> bool:
        return group in self.published


def suppress(counts: Mapping[str, int], k: int = DEFAULT_K) -> Table:
    """Primary and secondary suppression of one table of respondent counts."""
    k = checked_k(k)
    total = sum(counts.values())
    if total < k:
        return Table({}, frozenset(counts), None, k)
    withheld = {g for g, n in counts.items() if n < k}
    # Smallest first; ties by name, so the answer does not depend on the order given.
    order = sorted((g for g in counts if g not in withheld), key=lambda g: (counts[g], g))
    while withheld and (len(withheld) < 2 or sum(counts[g] for g in withheld) < k):
        if not order:  # cannot happen while total >= k, but never publish a derivable cell
            return Table({}, frozenset(counts), None, k)
        withheld.add(order.pop(0))
    published = {g: n for g, n in counts.items() if g not in withheld}
    return Table(published, frozenset(withheld), total, k)
