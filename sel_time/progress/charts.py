"""Charts drawn on the server (SVG geometry for the templates; no JavaScript), as in finance:
the trend of a survey's headline score across waves, and a question's distribution."""
from __future__ import annotations

from typing import Any

from .bank import LIKERT_LABELS

LIKERT_COLOURS = ("#d5281b", "#ed8b00", "#aeb7bd", "#41b6e6", "#005eb8")
CHOICE_COLOUR = "#005eb8"


def trend_chart(rows: list[dict[str, Any]], width: int = 640) -> dict[str, Any]:
    """Headline score (1 to 5) per wave as points joined by a line, each labelled."""
    height, left, top, bottom = 220, 50, 20, 40
    plot_w, plot_h = width - left - 20, height - top - bottom
    step = plot_w / max(1, len(rows) - 1) if len(rows) > 1 else 0
    points = []
    for i, r in enumerate(rows):
        if r["headline"] is None:
            continue
        x = left + (i * step if len(rows) > 1 else plot_w / 2)
        y = top + plot_h * (5 - r["headline"]) / 4
        points.append({"x": x, "y": y, "label": f"Wave {r['wave']}: {r['headline']:.2f}",
                       "wave": r["wave"]})
    ticks = [{"y": top + plot_h * (5 - v) / 4, "label": str(v)} for v in (1, 2, 3, 4, 5)]
    return {"width": width, "height": height, "left": left, "base": top + plot_h,
            "points": points, "ticks": ticks,
            "path": " ".join(f"{'M' if i == 0 else 'L'}{p['x']:.1f},{p['y']:.1f}"
                             for i, p in enumerate(points))}


def distribution_bars(q: dict[str, Any], width: int = 600) -> dict[str, Any]:
    """One horizontal bar per answer (its share of the question's published responses)."""
    cell = q["overall"]
    shares = cell.get("shares", {})
    labels = (dict(zip([str(s) for s in range(1, 6)], LIKERT_LABELS))
              if q["kind"] == "likert" else {o: o for o in shares})
    bar_h, left = 22, 230
    bars = []
    for i, (key, share) in enumerate(shares.items()):
        colour = LIKERT_COLOURS[i] if q["kind"] == "likert" else CHOICE_COLOUR
        bars.append({"y": 4 + i * (bar_h + 4), "w": (width - left - 60) * share, "colour": colour,
                     "label": labels.get(key, key), "text": f"{share * 100:.0f}%"})
    return {"width": width, "height": 8 + len(bars) * (bar_h + 4), "left": left, "bar_h": bar_h,
            "bars": bars}
