"""The accessibility statement: what sel-time meets (WCAG 2.2 AA, checked by axe-core on every
page as every role at desktop and phone widths), what is known not to, and whom to tell."""

from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("accessibility.html", title="Accessibility statement")
