"""The plan page is sent gzipped to browsers that ask for it, assembled around the grid it
deflated once, and reads the same as the page sent uncompressed."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable
from typing import Any

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from sel_time.core.extensions import db
from sel_time.models import Plan, User, UserRole
from sel_time.web.compress import MARKER, Fragment, gzip_page, join_page
from tests.planning.conftest import Small

CSRF = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]+"')


def _rota_manager(app: Flask) -> Any:
    user = User(email="rota@pages.test", name="Rota Manager", role=UserRole.ROTA_MANAGER)
    db.session.add(user)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client


def test_the_grid_page_gzipped_is_the_page(
    app: Flask, small: Small, solve_plan: Callable[..., Plan]
) -> None:
    plan = solve_plan()
    client = _rota_manager(app)
    url = f"/manage/plans/{plan.id}"
    plain = client.get(url)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert b'id="plan-grid"' in plain.data and b"Ben Adeyemi" in plain.data
    for _ in range(2):  # the first builds and caches the grid, the second reuses it
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.status_code == 200
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert len(packed.data) < len(plain.data) / 3
        body = gzip.decompress(packed.data)
        assert CSRF.sub(rb"\1x", body) == CSRF.sub(rb"\1x", plain.data)
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


@settings(max_examples=60, deadline=None)
@given(head=st.text(), middle=st.text(), tail=st.text())
def test_a_page_assembled_around_a_deflated_fragment_is_valid_gzip(
    head: str, middle: str, tail: str
) -> None:
    head, tail = head.replace(MARKER, ""), tail.replace(MARKER, "")
    packed = gzip_page(head + MARKER + tail, Fragment.of(middle))
    expected = (head + middle + tail).encode()
    assert gzip.decompress(packed) == expected  # checks the CRC and the length
    assert zlib.decompress(packed, wbits=31) == expected
    assert join_page(head + MARKER + tail, Fragment.of(middle)) == expected


def test_a_page_without_its_fragment_is_sent_whole() -> None:
    """A plan still solving shows no grid: the page has no marker, and is sent as it is."""
    page = "<p>Solving… 40 %</p>"
    assert gzip.decompress(gzip_page(page, Fragment.of("<table></table>"))) == page.encode()
    assert join_page(page, Fragment.of("<table></table>")) == page.encode()
