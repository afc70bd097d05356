"""One transaction boundary: nothing in ``sel_time`` commits or rolls back but
``sel_time.core.transaction``; a refused page change and a failed CLI command write nothing; a page
that succeeds commits once."""
from __future__ import annotations

import ast
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from sel_time.core.errors import SelTimeError
from sel_time.core.extensions import db
from sel_time.directory import records
from sel_time.models import AuditEvent, FeedToken, Person, User, UserRole
from sel_time.web.forms import form_values

PACKAGE = Path(__file__).resolve().parents[2] / "sel_time"
BOUNDARY = "core/transaction.py"
PASSWORD = "boundary-test-password"

# (module, function, receiver): calls allowed outside the boundary module, each with its reason.
# None since the task queue replaced the nightly job's lock (it claims its night in the database).
ALLOWED: set[tuple[str, str, str]] = set()


def _calls_outside_boundary() -> list[tuple[str, str, str, int]]:
    """Every ``.commit()`` / ``.rollback()`` call in sel_time/, outside the boundary module."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == BOUNDARY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for function, node in _calls(tree):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("commit", "rollback"):
                receiver = ast.unparse(func.value)
                if (rel, function, receiver) not in ALLOWED:
                    found.append((rel, function, f"{receiver}.{func.attr}()", node.lineno))
    return found


def _calls(tree: ast.AST, function: str = "<module>") -> Iterator[tuple[str, ast.Call]]:
    for node in ast.iter_child_nodes(tree):
        name = function
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = node.name if function == "<module>" else function
        if isinstance(node, ast.Call):
            yield function, node
        yield from _calls(node, name)


def test_no_commit_or_rollback_outside_the_boundary() -> None:
    assert _calls_outside_boundary() == []


def test_the_walk_finds_calls() -> None:
    """The check above is not vacuous: it sees commit and rollback calls where they are."""
    tree = ast.parse("def f():\n    db.session.commit()\n    x.rollback()\n")
    assert [(fn, ast.unparse(c.func)) for fn, c in _calls(tree)] == [
        ("f", "db.session.commit"), ("f", "x.rollback")]


# -- behaviour ------------------------------------------------------------------------------------


@pytest.fixture()
def manager(app: Any) -> Any:
    """A rota manager's signed-in test client."""
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.add(User(email="rota@boundary.test", name="Rota", role=UserRole.ROTA_MANAGER,
                        password_hash=password_hash))
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/login", data={"email": "rota@boundary.test", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture()
def commits(app: Any) -> Iterator[list[int]]:
    """The COMMITs the database receives, counted from when the fixture is asked for."""
    seen: list[int] = []

    def count(_conn: Any) -> None:
        seen.append(1)

    sa.event.listen(db.engine, "commit", count)
    yield seen
    sa.event.remove(db.engine, "commit", count)


def _stored(person_id: int) -> tuple[str, str]:
    db.session.rollback()  # a fresh look at what is stored
    person = db.session.get(Person, person_id)
    assert person is not None
    return person.name, person.email


def _form(person: Person, **changes: str) -> dict[str, str]:
    """The edit form as the page fills it, with ``changes``."""
    return {**form_values(records.ENTITIES["people"].to_dict(person)), **changes}


def _audit_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) or 0


def test_a_refused_page_change_leaves_the_database_unchanged(manager: Any, make: Any) -> None:
    first, second = make("people"), make("people")
    before, audits = _stored(first.id), _audit_rows()
    response = manager.post(f"/manage/people/{first.id}",
                            data=_form(first, name="A new name", email=second.email))
    assert response.status_code == 422
    assert b"already" in response.data or b"exists" in response.data, response.data[-2000:]
    assert _stored(first.id) == before  # not the new name either: nothing of the change is kept
    assert _audit_rows() == audits


def test_a_page_that_succeeds_commits_once(manager: Any, make: Any, commits: list[int]) -> None:
    person = make("people")
    audits = _audit_rows()
    commits.clear()
    response = manager.post(f"/manage/people/{person.id}", data=_form(person, name="A new name"))
    assert response.status_code == 302
    assert commits == [1]
    assert _stored(person.id)[0] == "A new name"
    assert _audit_rows() == audits + 1


def test_a_cli_command_that_fails_part_way_writes_nothing(
        app: Any, runner: Any, make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    person = make("people")
    db.session.add(User(email="leader@boundary.test", name="Leader", role=UserRole.LEADER,
                        person_id=person.id))
    db.session.commit()
    audits = _audit_rows()

    def refuse(_secret: str) -> dict[str, str]:
        raise SelTimeError("no public URL")  # after the token was issued and flushed

    monkeypatch.setattr("sel_time.feeds.routes.feed_url", refuse)
    result = runner.invoke(args=["sel-time", "feed-link", "--user", "leader@boundary.test"])
    assert result.exit_code == 2, result.output
    assert "no public URL" in result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(FeedToken.id))) == 0
    assert _audit_rows() == audits


def _lost_to_a_concurrent_transaction(sqlstate: str) -> sa.exc.OperationalError:
    class Orig(Exception):
        pass

    orig = Orig("deadlock detected")
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]  # as psycopg's errors carry it
    return sa.exc.OperationalError("UPDATE person ...", {}, orig)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_request_that_lost_to_a_concurrent_one_is_run_again_and_kept_once(
        app: Any, make: Any, sqlstate: str) -> None:
    from sel_time.core.transaction import transactional

    person = make("people", name="Before")
    tries = []

    @transactional
    def rename() -> str:
        tries.append(1)
        db.session.get(Person, person.id).name = f"Try {len(tries)}"
        db.session.flush()
        if len(tries) == 1:  # what PostgreSQL does to the loser of a deadlock
            raise _lost_to_a_concurrent_transaction(sqlstate)
        return "saved"

    assert rename() == "saved"
    assert len(tries) == 2
    db.session.expire_all()
    assert db.session.get(Person, person.id).name == "Try 2"  # the first try kept nothing


def test_any_other_database_error_is_not_retried(app: Any, make: Any) -> None:
    from sel_time.core.transaction import transactional

    tries = []

    @transactional
    def fail() -> None:
        tries.append(1)
        raise _lost_to_a_concurrent_transaction("08006")  # the connection went away

    with pytest.raises(sa.exc.OperationalError):
        fail()
    assert len(tries) == 1


def test_a_request_that_keeps_losing_gives_up_after_three_tries(app: Any) -> None:
    from sel_time.core.transaction import RETRIES, transactional

    tries = []

    @transactional
    def always_loses() -> None:
        tries.append(1)
        raise _lost_to_a_concurrent_transaction("40P01")

    with pytest.raises(sa.exc.OperationalError):
        always_loses()
    assert len(tries) == RETRIES == 3


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="a real deadlock needs PostgreSQL (SQLite has one writer)")
def test_two_requests_that_deadlock_on_postgresql_both_end_saved(app: Any, make: Any) -> None:
    """Each locks one person and then wants the other's: PostgreSQL aborts one with a deadlock;
    it is run again and both changes are kept."""
    from sel_time.core.transaction import transactional

    first, second = make("people").id, make("people").id
    barrier = threading.Barrier(2)
    tries: list[str] = []

    def both_in_opposite_order(mine: int, theirs: int, label: str) -> None:
        @transactional
        def change() -> None:
            tries.append(label)
            db.session.execute(sa.update(Person).where(Person.id == mine)
                               .values(specialty=f"by {label}"))
            if tries.count(label) == 1:
                try:
                    barrier.wait(timeout=5)
                except threading.BrokenBarrierError:
                    pass
            db.session.execute(sa.update(Person).where(Person.id == theirs)
                               .values(name=f"seen by {label}"))

        with app.app_context():
            change()

    threads = [threading.Thread(target=both_in_opposite_order, args=(first, second, "a")),
               threading.Thread(target=both_in_opposite_order, args=(second, first, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    db.session.expire_all()
    titles = {db.session.get(Person, pid).specialty for pid in (first, second)}
    assert titles == {"by a", "by b"}
    assert len(tries) == 3  # one of the two ran twice
