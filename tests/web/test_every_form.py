"""Every form a role can reach, submitted empty and then with wrong values: what comes back is
sentences (an error summary, a field's message or a banner), never a field code, validator text
or a traceback. The forms are found, not listed: each role's pages are walked from its home page
by their links (as the accessibility sweep does), and every POST form with a field to fill in is
tried, so a new form is covered without a change here."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from sel_time.core.extensions import db
from sel_time.models import User, UserRole

PASSWORD = "every-form-password"
DEVELOPER_TEXT = re.compile(
    r"Input should|Value error|Field required|validation error|Traceback|pydantic|"
    r"input is too short|type=|\b[a-z]+_[a-z_]+\b|\bNone\b|YYYY|"
    r"^Some fields are not valid$"  # a sentence, but naming no field
)
NOT_PAGES = re.compile(r"^/(api|feeds|static|logout)\b|\.(ics|csv|xlsx|json)$|/export")
SKIP_FORMS = re.compile(r"/logout$|/import$")  # sign-out; the upload (tests/imports covers it)
WRONG = {"date": "2027-02-30", "email": "not an email", "select": "no-such-choice",
         "textarea": "x" * 5001, "numeric": "-5", "text": "@@@ ¬ 99999999999999999999"}


@pytest.fixture()
def world(app: Any, make: Any) -> dict[str, User]:
    from sel_time.core.clock import now_utc
    from sel_time.models import Attendance, ProtectedSession, RosterStatus

    org = make("organisations", name="King's College Hospital")
    make("departments", name="Emergency Department", organisation_id=org.id)
    person = make("people", name="Lee Leader", organisation_id=org.id)
    make("roles", title="Clinical Director", host_organisation_id=org.id)
    make("teams", name="Place Leadership Team")
    out = {}
    for role in UserRole:
        user = User(email=f"{role.value}@every-form.test", name=role.value, role=role,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
                    person_id=person.id if role == UserRole.LEADER else None)
        db.session.add(user)
        out[role.value] = user
    start = (now_utc() - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    past = ProtectedSession(uid="every-form@sel-time", person_id=person.id,
                            slot=f"{start.date().isoformat()}/AM", start_at=start,
                            end_at=start + timedelta(hours=4), status=RosterStatus.CONFIRMED,
                            sequence=0, published_at=now_utc(), last_modified=now_utc())
    past.attendances.append(Attendance(person_id=person.id, cost_pence=16400))
    db.session.add(past)
    db.session.commit()
    return out


def _client(app: Any, user: User | None) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    if user is not None:
        r = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 302
    return client


def _pages(client: Any, limit: int = 40) -> dict[str, tuple[str, str]]:
    """Shape → (address, HTML) of every page reachable by links from home."""
    queue, found = ["/"], {}
    while queue and len(found) < limit:
        path = queue.pop(0)
        key = re.sub(r"/\d+", "/N", path)
        if key in found or NOT_PAGES.search(path):
            continue
        r = client.get(path, follow_redirects=True)
        if r.mimetype != "text/html":
            continue
        html = r.get_data(as_text=True)
        found[key] = (r.request.path, html)
        queue += [unescape(h) for h in re.findall(r'<a\b[^>]*\bhref="(/[^"#?]*)"', html)]
    return found


def _forms(path: str, html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(action, [(field name, kind)]) of each POST form with something to fill in."""
    out = []
    for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", html, re.S):
        if 'method="post"' not in attrs:
            continue
        action = re.search(r'action="([^"]*)"', attrs)
        target = unescape(action.group(1)) if action and action.group(1) else path
        if SKIP_FORMS.search(target):
            continue
        fields: list[tuple[str, str]] = []
        for tag, rest in re.findall(r"<(input|select|textarea)\b([^>]*)>", body):
            name = re.search(r'name="([^"]+)"', rest)
            kind = re.search(r'type="([^"]+)"', rest)
            kind_ = tag if tag != "input" else (kind.group(1) if kind else "text")
            if not name or kind_ in ("hidden", "submit", "button", "file"):
                continue
            if 'inputmode="numeric"' in rest:
                kind_ = "numeric"
            fields.append((name.group(1), kind_))
        if fields:
            out.append((target, fields))
    return out


def _messages(html: str) -> list[str]:
    main = html[html.index("<main"):]
    texts = re.findall(r'<ul class="nhsuk-list nhsuk-error-summary__list">(.*?)</ul>', main, re.S)
    texts += re.findall(r'class="nhsuk-error-message"[^>]*>(.*?)</span>\s*(.*?)</span>', main,
                        re.S)
    texts += re.findall(r'<p class="nhsuk-notification-banner__heading">(.*?)</p>', main, re.S)
    texts += re.findall(r'<div class="nhsuk-error-summary__body"><p>(.*?)</p>', main, re.S)
    out = []
    for t in texts:
        t = " ".join(t) if isinstance(t, tuple) else t
        for item in re.split(r"</li>", t):
            words = unescape(re.sub(r"<[^>]+>", " ", item)).split()
            text = " ".join(w for w in words if w != "Error:")
            if text:
                out.append(text)
    return out


def _submit(client: Any, action: str, data: dict[str, str]) -> list[str]:
    r = client.post(action, data=data, follow_redirects=True)
    assert r.status_code < 500, (action, data, r.status_code)
    return _messages(r.get_data(as_text=True))


@pytest.mark.parametrize("role", ["admin", "rota_manager", "finance", "leader", None])
def test_every_form_answers_empty_and_wrong_values_in_sentences(app: Any,
                                                                world: dict[str, User],
                                                                role: str | None) -> None:
    client = _client(app, world[role] if role else None)
    pages = _pages(client) if role else {
        "/login": ("/login", client.get("/login").get_data(as_text=True))}
    tried: set[str] = set()
    for path, html in pages.values():
        for action, fields in _forms(path, html):
            shape = re.sub(r"/\d+", "/N", action)
            if shape in tried:
                continue
            tried.add(shape)
            wrong = {name: WRONG.get(kind, WRONG["text"]) for name, kind in fields
                     if kind not in ("radio", "checkbox")}
            for data in ({}, wrong):
                messages = _submit(client, action, data)
                assert messages, (role, action, data, "no message came back")
                for text in messages:
                    assert not DEVELOPER_TEXT.search(text), (role, action, text)
                    assert text[:1].isupper() or text[:1].isdigit(), (role, action, text)
            client = _client(app, world[role] if role else None)  # a fresh session each form
    expected = {None: {"/login"}, "leader": {"/me/leave", "/me/attendances/N"},
                "finance": {"/finance/whatif"},
                "admin": {"/manage/people/new", "/manage/plans"},
                "rota_manager": {"/manage/roles/new", "/manage/leave/new"}}[role]
    assert expected <= tried, (expected - tried, tried)
