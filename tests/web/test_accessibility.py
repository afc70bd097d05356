"""Every page as every role at 1280 and 390 px wide: axe-core (from npm, pinned in
tests/web/a11y/package-lock.json) finds no WCAG 2.0, 2.1 or 2.2 A/AA violation, and on a phone no
page scrolls sideways. A screenshot of each page at each width goes to tests/artifacts/screens/.

The pages are found, not listed: each role's sweep starts at its home page and follows every link
on the site that a signed-in user of that role can see (the menu, the account links, the links in
tables), one page per shape of address (``/manage/plans/7`` and ``/manage/plans/8`` are one
page). A new page linked from anywhere is swept without a change here; a page reached only by a
form goes in EXTRA.

The whole sweep (4 roles × every page × 2 widths) is marked slow and runs when
``SEL_TIME_A11Y_FULL=1`` (CI's PostgreSQL run sets it); the default run sweeps a representative
subset (SUBSET) at both widths.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import PASSWORD

pytestmark = pytest.mark.slow  # axe-core in Chromium on every role's pages

A11Y = Path(__file__).resolve().parent / "a11y"
AXE = A11Y / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = Path(__file__).resolve().parents[1] / "artifacts" / "screens"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
WIDTHS = (1280, 390)
ROLES = ("leader", "rota_manager", "finance", "admin")
FULL = os.environ.get("SEL_TIME_A11Y_FULL") == "1"
# pages reached only through a form, not a link: the sweep adds them for the roles that may see them
EXTRA = {
    "rota_manager": ["/manage/people/new", "/manage/no-such-page"],
    "admin": ["/manage/people/new"],
    "finance": ["/finance?from=2001-01-01&to=2001-01-31"],
    "leader": ["/me/no-such-page", "/manage"],
}
SUBSET = {  # the default run: the pages of each kind (a list, a form, the grid, a chart)
    "leader": {"/me", "/me/subscribe"},
    "rota_manager": {"/manage", "/manage/people", "/manage/plans/N", "/manage/people/new",
                     "/progress/programmes/new", "/progress/programmes/N/edit"},
    "finance": {"/finance", "/finance/whatif/N"},
    "admin": {"/manage/plans", "/manage/queue", "/accessibility"},
}
SKIP = re.compile(r"^/(api|feeds|static|logout|record)\b|\.(ics|csv|xlsx|json)$|/download|/export")


def _axe_source() -> str:
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--prefix", str(A11Y), "--no-audit", "--no-fund",
                        "--loglevel=error"], check=True)
    return AXE.read_text()


def shape(path: str) -> str:
    """One page per shape of address: numbers become N, the query is kept only if it is
    one of EXTRA's."""
    return re.sub(r"/\d+", "/N", path)


@pytest.fixture(scope="module")
def sweep_server(live_server: dict[str, Any]) -> dict[str, Any]:
    """The demo with what every page shows when it has data: a published plan, a draft, a
    finished what-if and a past session of the leader's to record."""
    from tests.support.pages_data import fill_pages

    fill_pages(live_server)
    return live_server


def _sign_in(page: Any, server: dict[str, Any], role: str) -> None:
    page.goto(server["url"] + "/login")
    page.fill("#email", server["accounts"][role])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]*)')


def _links(html: str, base: str) -> list[str]:
    out = []
    for href in HREF.findall(html):
        href = href.replace("&amp;", "&")
        if href.startswith(base):
            href = href[len(base):]
        if not href.startswith("/") or href.startswith("//"):
            continue
        if SKIP.search(urlparse(href).path) or "?" in href:
            continue
        out.append(href)
    return out


def crawl(page: Any, server: dict[str, Any], role: str, limit: int = 80,
          wanted: set[str] | None = None) -> dict[str, str]:
    """Shape → first address of that shape, reachable from the role's home page by links
    (stopping once every ``wanted`` shape is found). Read over HTTP with the page's cookies
    (no rendering): quick."""
    base = server["url"]
    home = page.request.get(base + "/")
    found: dict[str, str] = {}
    queue = [urlparse(home.url).path, *EXTRA.get(role, [])]
    while queue and len(found) < limit:
        if wanted is not None and wanted <= set(found):
            break
        path = queue.pop(0)
        key = shape(path)
        if key in found:
            continue
        found[key] = path
        response = page.request.get(base + path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        queue.extend(p for p in _links(response.text(), base) if shape(p) not in found)
    return found


def violations(page: Any, name: str, width: int, axe: str | None = None) -> list[str]:
    """axe's WCAG 2.0-2.2 A/AA violations on the page as it stands (a state, not only a
    freshly loaded page), in words. The page's context must bypass CSP (axe is inlined)."""
    page.add_script_tag(content=axe or _axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})", TAGS)
    return [
        f"{name} @{width}: {v['id']} ({v['impact']}) on {len(v['nodes'])} element(s), e.g. "
        f"{v['nodes'][0]['target']}: {v['nodes'][0]['failureSummary'][:200]}"
        for v in result["violations"]
    ]


def check_page(page: Any, url: str, name: str, width: int, axe: str) -> list[str]:
    """axe's violations and sideways scrolling on one page at one width, in words."""
    page.goto(url)
    page.wait_for_load_state("load")
    problems = violations(page, name, width, axe)
    if width < 500:
        sizes = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        if sizes[0] > sizes[1]:
            problems.append(f"{name} @{width}: the page is {sizes[0]} px wide in {sizes[1]}")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
    return problems


@pytest.fixture(scope="module")
def axe() -> str:
    return _axe_source()


def _contexts(browser: Any) -> Iterator[tuple[int, Any]]:
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        yield width, context


def sweep(browser: Any, server: dict[str, Any], role: str, axe: str, full: bool) -> list[str]:
    problems: list[str] = []
    contexts = list(_contexts(browser))
    try:
        pages = {}
        for width, context in contexts:
            pg = context.new_page()
            pg.set_default_timeout(30000)
            _sign_in(pg, server, role)
            pages[width] = pg
        found = crawl(pages[WIDTHS[0]], server, role, wanted=None if full else SUBSET[role])
        for key, path in sorted(found.items()):
            if not full and key not in SUBSET[role]:
                continue
            name = f"{role}{key.replace('/', '-') or '-home'}".rstrip("-")
            for width, pg in pages.items():
                problems += check_page(pg, server["url"] + path, name, width, axe)
        # signed out: the sign-in page and the accessibility statement
        if role == ROLES[0]:
            for width, context in contexts:
                pg = context.new_page()
                pg.context.clear_cookies()
                for path in ("/login", "/accessibility") if full else ("/login",):
                    name = f"signed-out{path.replace('/', '-')}"
                    problems += check_page(pg, server["url"] + path, name, width, axe)
    finally:
        for _, context in contexts:
            context.close()
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_pages_pass_axe_and_fit_a_phone(sweep_server: dict[str, Any], browser: Any, axe: str,
                                        role: str) -> None:
    problems = sweep(browser, sweep_server, role, axe, FULL)
    assert not problems, "\n".join(problems)


def test_the_sweep_finds_every_menu_page(sweep_server: dict[str, Any], browser: Any) -> None:
    """The crawl reaches the pages the menus name for a rota manager (so a new menu item is
    swept), and the pages the brief found unlinked are now linked."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        _sign_in(page, sweep_server, "rota_manager")
        found = crawl(page, sweep_server, "rota_manager")
    finally:
        context.close()
    for shape_ in ("/manage/leave", "/manage/assignments", "/manage/departments",
                   "/finance/whatif", "/accessibility", "/manage/plans/N"):
        assert shape_ in found, (shape_, sorted(found))


def test_axe_is_pinned_in_the_lockfile() -> None:
    lock = json.loads((A11Y / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/axe-core"]
    assert entry["version"].startswith("4.") and entry["integrity"].startswith("sha512-")
