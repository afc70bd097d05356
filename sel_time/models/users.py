"""People who sign in, and the API tokens they use."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..core.extensions import Model
from .base import TimestampMixin, UserRole, UTCDateTime, enum_column

if TYPE_CHECKING:
    from .people import Person


class User(TimestampMixin, Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="SET NULL"), unique=True
    )
    active: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # to tell tokens apart; not secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # refused from this moment on
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the hour
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginFailure(Model):
    """One failed sign-in for one throttle key (``pair:email|ip``, ``ip:…`` or ``email:…``,
    stored as its SHA-256), kept only for the throttle's window. In the database, so that every
    web process (every gunicorn worker, on every machine) counts the same failures, and a
    restart forgets none."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_key_hash_at", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RequestedRunMixin:
    """What a plan and a what-if run share: who asked and when, progress while it runs (the
    browser polls it), when it started and finished, and why it failed."""

    progress: Mapped[float] = mapped_column(default=0.0)
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by: Mapped[str] = mapped_column(sa.String(254))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The X-Request-ID of the request that asked for it: its log lines carry it too.
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    # The queue: the task that runs it (to revoke it while queued), which attempt this is (a
    # run whose worker was lost is queued once more, and only the latest attempt may write),
    # and whether someone asked to cancel it (its worker stops the solver within a second).
    task_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempt: Mapped[int] = mapped_column(default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    @declared_attr
    def requester(cls) -> Mapped[User | None]:
        return relationship("User")
