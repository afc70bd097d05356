"""The finance dashboard's figures and charts: every grouping from one read of the period's
cost lines, with chart geometry drawn on the server (the page works without JavaScript)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from ..plans.fairness import published_profession_shares
from ..web.formats import label, money, month
from . import backfill

SERIES = (
    ("planned", "Planned", "#005eb8"),
    ("delivered", "Delivered", "#007f3b"),
    ("budget", "Budget", "#ffb81c"),
)


GROUPS = (  # the dashboard's groupings: (key, heading, charted)
    ("year", "By financial year", False),
    ("quarter", "By quarter", False),
    ("month", "By month", True),
    ("organisation", "By organisation", True),
    ("department", "By department", False),
    ("profession", "By profession", True),
)
LETTER_PX = 6.6  # the width of one 12 px Arial character, near enough, for a chart's margins


def nice_step(top: float, steps: int = 4) -> float:
    """A round step for an axis up to ``top`` in about ``steps`` steps: 1, 2, 2.5 or 5 × 10ⁿ
    (£62,677 → steps of £20,000 up to £80,000)."""
    if top <= 0:
        return 1.0
    raw = top / steps
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)  # not reached


def bar_chart(rows: list[dict[str, Any]], key: str, title: str, width: int = 860) -> dict[str, Any]:
    """Geometry of a grouped bar chart (planned, delivered, budget per group) for an SVG: the
    axis at round steps, every group's name whole (the margin below grows to fit it)."""
    highest = max([r[s] or 0 for r in rows for s, _, _ in SERIES] + [0])
    step = nice_step(highest)
    top = step * max(1, math.ceil(highest / step))
    names = [_group_name(r[key], key) for r in rows]
    longest = max([len(n) for n in names] + [4])
    bottom = int(24 + longest * LETTER_PX * 0.72)  # names slanted at 45°
    left = max(70, int(longest * LETTER_PX * 0.72) - 20, int(len(f"£{top:,.0f}") * LETTER_PX) + 12)
    height = 220 + bottom
    plot_w, plot_h = width - left - 10, height - bottom - 20
    band = plot_w / max(1, len(rows))
    bar = max(2.0, band / 4)
    bars = []
    for i, r in enumerate(rows):
        for j, (s, series_name, colour) in enumerate(SERIES):
            v = r[s] or 0
            h = plot_h * v / top
            bars.append(
                {
                    "x": left + i * band + band / 8 + j * bar,
                    "y": 20 + plot_h - h,
                    "w": bar - 1,
                    "h": h,
                    "colour": colour,
                    "text": f"{names[i]} {series_name.lower()}: {money(v)}",
                }
            )
    count = round(top / step)
    ticks = [
        {"y": 20 + plot_h - plot_h * k / count, "label": f"£{step * k:,.0f}"}
        for k in range(count + 1)
    ]
    labels = [{"x": left + i * band + band / 2, "text": names[i]} for i in range(len(rows))]
    return {
        "title": title,
        "width": width,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "left": left,
        "base": 20 + plot_h,
        "series": SERIES,
    }


def _group_name(value: Any, key: str) -> str:
    """A chart group as a reader names it: a month in words, a profession by its label."""
    if key == "month":
        return month(value)
    return label(value) if key == "profession" else str(value)


def dashboard_data(first: date | None, last: date | None, org: str | None) -> dict[str, Any]:
    """Every grouping of the dashboard from one read of the period's cost lines, with the charts
    and the professions' shares. Kept per data version (DASHBOARDS): a visit after the first
    costs one stamp query until something is written, and the figures stay exact."""
    lines = backfill.cost_lines(first, last, org)
    data: dict[str, Any] = {}
    for key, _, _ in GROUPS:
        s = backfill.summarise([key], first, last, org, lines=lines)
        data[key] = {
            "rows": s.as_dicts(),
            "total": backfill.row_dict([], s.total),
            "first": s.first,
            "last": s.last,
        }
    charts = {k: bar_chart(data[k]["rows"], k, t) for k, t, charted in GROUPS if charted}
    return {
        "data": data,
        "charts": charts,
        "shares": published_profession_shares(first, last),
        "empty": not lines,
    }
