"""Users of every role who sign in to the pages with a password, and a browser client signed
in as one of them (CSRF off, as the page tests post forms without a token)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from sel_time.core.extensions import db
from sel_time.models import User, UserRole

PASSWORD = "page-tests-password"


def users_of_every_role(
    make: Callable[..., Any], domain: str, **leader: Any
) -> dict[str, User]:
    """A user of each role, ``<role>@<domain>``, signing in with :data:`PASSWORD`; the leader
    is a new person (``make("people", **leader)``)."""
    person = make("people", **leader)
    out = {}
    for role in UserRole:
        user = User(email=f"{role.value}@{domain}", name=role.value, role=role,
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
                    person_id=person.id if role == UserRole.LEADER else None)
        db.session.add(user)
        out[role.value] = user
    db.session.commit()
    return out


def signed_in(app: Flask, user: User | None) -> FlaskClient:
    """A test client signed in as ``user`` (one of :func:`users_of_every_role`), or anonymous."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    if user is not None:
        assert client.post("/login", data={"email": user.email,
                                           "password": PASSWORD}).status_code == 302
    return client
