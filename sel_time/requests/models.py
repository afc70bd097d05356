"""Leaders' change requests (move, swap, give back, cannot attend a team session, move a team
session), the claims that stop two of them changing one session, each organisation's approval
rule, and how each user wants sessions and notifications to reach them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import now_utc
from ..core.extensions import Model
from ..models.base import UTCDateTime, enum_column

if TYPE_CHECKING:
    from ..models import Organisation, Person, ProtectedSession, User


class RequestKind(enum.StrEnum):
    MOVE = "move"  # my session to another slot of its window
    SWAP = "swap"  # my session and a colleague's exchange slots (both agree)
    GIVE_BACK = "give_back"  # I cannot take it: recorded as lost, with the reason
    CANNOT_ATTEND = "cannot_attend"  # a team session I cannot attend
    TEAM_MOVE = "team_move"  # the team's session to another slot that keeps quorum


class RequestStatus(enum.StrEnum):
    AWAITING_PARTNER = "awaiting_partner"  # a swap the other leader has not accepted yet
    PENDING = "pending"  # in the rota managers' queue
    APPROVED = "approved"  # applied to the roster
    DECLINED = "declined"  # by a rota manager (with a reason), or by the swap's partner
    WITHDRAWN = "withdrawn"  # by the leader who asked
    OVERTAKEN = "overtaken"  # the session changed before a decision: ask again


class ChangeRequest(Model):
    __tablename__ = "change_request"
    __table_args__ = (
        sa.Index("ix_change_request_status_created_at", "status", "created_at"),
        sa.CheckConstraint(
            "(kind IN ('move', 'team_move') AND to_slot IS NOT NULL) "
            "OR (kind NOT IN ('move', 'team_move'))", name="move_has_slot"),
        sa.CheckConstraint(
            "(kind = 'swap' AND partner_session_id IS NOT NULL) OR kind <> 'swap'",
            name="swap_has_partner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind, "request_kind"))
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus, "request_status"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protected_session.id", ondelete="CASCADE"), index=True)
    base_sequence: Mapped[int] = mapped_column()  # the session's SEQUENCE when asked
    from_slot: Mapped[str] = mapped_column(sa.String(20))
    to_slot: Mapped[str | None] = mapped_column(sa.String(20))
    partner_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("protected_session.id", ondelete="CASCADE"))
    partner_sequence: Mapped[int | None] = mapped_column()
    partner_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    partner_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # the leader's, for give back
    lost_outcome: Mapped[str | None] = mapped_column(sa.String(32))  # give back: which loss
    # The change in backfill cost (pence) the request makes, judged when asked.
    cost_change_pence: Mapped[int | None] = mapped_column()
    # Why it went to the queue rather than being approved by the rule (sentences).
    held_because: Mapped[list[str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(254))  # a user's email, or "rule"
    decision_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # When the rota managers were told it waits (they are told in batches).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    partner: Mapped[Person | None] = relationship(foreign_keys=[partner_person_id])
    organisation: Mapped[Organisation] = relationship()
    session: Mapped[ProtectedSession] = relationship(foreign_keys=[session_id])
    partner_session: Mapped[ProtectedSession | None] = relationship(
        foreign_keys=[partner_session_id])
    requested_by: Mapped[User | None] = relationship()


class RequestClaim(Model):
    """One version (SEQUENCE) of one session changed by an approved request. The primary key
    is the database's guarantee that two requests for one session (one slot) are never both
    approved: the second approval's claim cannot be written."""

    __tablename__ = "request_claim"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("protected_session.id", ondelete="CASCADE"), primary_key=True)
    sequence: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("change_request.id", ondelete="CASCADE"), index=True)


class ApprovalRule(Model):
    """An organisation's rule: approve by itself a request that breaks no hard rule and
    raises backfill cost by at most ``max_rise_pence`` per session; else a rota manager."""

    __tablename__ = "approval_rule"
    __table_args__ = (sa.CheckConstraint("max_rise_pence >= 0", name="rise_non_negative"),)

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    auto_approve: Mapped[bool] = mapped_column(default=True)
    max_rise_pence: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class SessionsBy(enum.StrEnum):
    FEED = "feed"  # the subscribed calendar feed only (as before)
    EMAIL = "email"  # an e-mail invitation (iMIP) for every session and change
    BOTH = "both"  # the feed, and invitations for changes inside the next 14 days


class MailPreference(Model):
    """How one user's sessions reach them, and which e-mails they want."""

    __tablename__ = "mail_preference"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    sessions_by: Mapped[SessionsBy] = mapped_column(
        enum_column(SessionsBy, "sessions_by"), default=SessionsBy.FEED)
    requests_waiting: Mapped[bool] = mapped_column(default=True)  # rota managers
    decisions: Mapped[bool] = mapped_column(default=True)
    changes: Mapped[bool] = mapped_column(default=True)  # my sessions in the next 14 days
    # One e-mail a day gathering these notices, instead of one each (invitations still go
    # at once: a calendar needs them).
    daily_digest: Mapped[bool] = mapped_column(default=False)

    def as_dict(self) -> dict[str, Any]:
        return {"sessions_by": self.sessions_by.value, "requests_waiting": self.requests_waiting,
                "decisions": self.decisions, "changes": self.changes,
                "daily_digest": self.daily_digest}


class DigestItem(Model):
    """A notice kept for a user who chose a daily digest, until the day's digest is sent."""

    __tablename__ = "digest_item"
    __table_args__ = (sa.Index("ix_digest_item_user_id_sent_at", "user_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
