"""Flask extensions, created unbound here and bound in :func:`sel_time.create_app`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.model import Model as FlaskModel
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The exclusion constraints (no overlapping leave or role holdings of one person) mix ``=`` on
# integers with ``&&`` on ranges in one GiST index, which needs btree_gist on PostgreSQL.
sa.event.listen(
    Base.metadata,
    "before_create",
    # SQLAlchemy's DDL.__init__ has no annotations.
    sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(  # type: ignore[no-untyped-call]
        dialect="postgresql"
    ),
)

db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:

    class Model(FlaskModel, Base):
        """What mypy sees of ``db.Model``: :class:`Base` with Flask-SQLAlchemy's model mixin."""

else:
    # The base of every model: Flask-SQLAlchemy's copy of Base (with its query, repr and table
    # names). mypy cannot subclass an attribute such as ``db.Model``, so models subclass this.
    Model = db.Model

migrate = Migrate(compare_type=True, render_as_batch=True)


def _enable_sqlite_foreign_keys() -> None:
    """SQLite ignores foreign keys unless asked, per connection."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record):  # type: ignore[no-untyped-def]
        if isinstance(dbapi_connection, sqlite3.Connection):
            # Let SQLAlchemy emit BEGIN itself (below): with the driver's own transaction
            # handling, releasing the outermost SAVEPOINT would commit at once.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Readers never block the writer (a web request reading while a refresh publishes).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    @event.listens_for(Engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(Engine, "do_connect")
    def _connect_timeout(dialect, conn_rec, cargs, cparams):  # type: ignore[no-untyped-def]
        # Without one, a connection attempt to a PostgreSQL that is stopping or starting can
        # hang a request for as long as the server takes; with one it fails fast (503).
        if dialect.name == "postgresql":
            cparams.setdefault(
                "connect_timeout", int(os.environ.get("SEL_TIME_DB_CONNECT_TIMEOUT", "3"))
            )


_enable_sqlite_foreign_keys()
