"""Calendar feed tokens and rendered feeds."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import Model
from .base import UTCDateTime, enum_column


class FeedKind(enum.StrEnum):
    PERSON = "person"
    TEAM = "team"
    DEPARTMENT = "department"
    ORGANISATION = "organisation"


class FeedToken(Model):
    """The secret in a feed's URL: 256 random bits, stored only as a SHA-256 hash, scoped to
    one feed, read-only."""

    __tablename__ = "feed_token"
    __table_args__ = (sa.Index("ix_feed_token_target", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, "feed_kind"))
    target_id: Mapped[int] = mapped_column()
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Who the feed was issued to; team and department feeds re-check membership on each fetch.
    holder_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE")
    )
    holder_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedCache(Model):
    """A feed rendered once and served until something in it changes."""

    __tablename__ = "feed_cache"

    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, "cache_kind"), primary_key=True)
    target_id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    etag: Mapped[str | None] = mapped_column(sa.String(80))
    stale: Mapped[bool] = mapped_column(default=True)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
