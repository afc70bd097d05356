"""Who hears of a request and its outcome, by e-mail (queued in the same transaction, so a
change that is rolled back tells nobody): the swap's colleague, the leader when a rota
manager decides, people whose sessions in the next 14 days changed, rota managers (in
batches) of requests waiting; and e-mail invitations (iMIP) for leaders who chose them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from html import escape

import sqlalchemy as sa

from ..core.audit import Actor
from ..core.clock import LONDON, now_utc
from ..core.extensions import db
from ..feeds.invitations import invitation
from ..feeds.service import public_base
from ..mail import queue_message
from ..models import Person, ProtectedSession, RosterStatus, User, UserRole
from ..plans import publishing
from .apply import Changed
from .models import ChangeRequest, DigestItem, MailPreference, RequestStatus, SessionsBy

FROZEN_DAYS = 14


def preference(user: User) -> MailPreference:
    pref = db.session.get(MailPreference, user.id)
    return pref if pref is not None else MailPreference(
        user_id=user.id, sessions_by=SessionsBy.FEED, requests_waiting=True, decisions=True,
        changes=True, daily_digest=False)


def _user_of(person_id: int) -> User | None:
    return db.session.scalar(sa.select(User).where(User.person_id == person_id,
                                                   User.active.is_(True)))


def _when(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def _link(path: str) -> str:
    return public_base() + path


def _send(to: str, subject: str, lines: list[str], kind: str, key: str | None = None,
          user: User | None = None) -> None:
    """Queue a notice now, or keep it for the day's digest if ``user`` chose one."""
    if user is not None and preference(user).daily_digest:
        db.session.add(DigestItem(user_id=user.id, kind=kind, subject=subject,
                                  text="\n".join(lines), created_at=now_utc()))
        db.session.flush()
        return
    text = "\n\n".join(lines) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    queue_message(recipient=to, subject=subject, text=text, html=html, kind=kind,
                  dedupe_key=key)


def _what(req: ChangeRequest) -> str:
    when = _when(req.session.start_at) if req.status != RequestStatus.APPROVED else req.from_slot
    words = {"move": "move your session", "swap": "swap sessions",
             "give_back": "give back your session", "cannot_attend": "miss a team session",
             "team_move": "move a team session"}[req.kind.value]
    return f"{words} ({when})"


def swap_asked(req: ChangeRequest) -> None:
    """Ask the colleague to accept or decline a swap."""
    if req.partner_person_id is None or req.partner_session is None:
        return
    partner = db.session.get(Person, req.partner_person_id)
    if partner is None:
        return
    _send(partner.email, f"{req.person.name} asks to swap protected time with you", user=_user_of(
        partner.id), lines=[
        f"{req.person.name} asks to swap sessions: you would take "
        f"{_when(req.session.start_at)} and they would take "
        f"{_when(req.partner_session.start_at)}.",
        "The swap happens only if you accept. Answer on My time: " + _link("/me/requests"),
    ], kind="swap_asked")


def decided(req: ChangeRequest) -> None:
    """Tell the leader who asked what was decided (when someone other than them decided)."""
    user = _user_of(req.person_id)
    if user is None or not preference(user).decisions:
        return
    if req.status == RequestStatus.APPROVED:
        outcome = "was approved"
    elif req.status == RequestStatus.DECLINED:
        outcome = "was declined"
    elif req.status == RequestStatus.OVERTAKEN:
        outcome = "could not be applied: the session changed after you asked"
    else:
        return
    lines = [f"Your request to {_what(req)} {outcome}."]
    if req.decision_reason:
        lines.append(f"Reason: {req.decision_reason}")
    lines.append("See your requests: " + _link("/me/requests"))
    _send(req.person.email, f"Your protected time request {outcome.split(':')[0]}", lines,
          "decision", key=f"decision:{req.id}:{req.status.value}", user=user)


def changed(req: ChangeRequest, what: Changed, actor: Actor) -> None:
    """E-mail invitations (REQUEST or CANCEL, the feed's UID and SEQUENCE) and change notices
    to the people whose sessions changed, as each chose."""
    now = now_utc()
    soon = now + timedelta(days=FROZEN_DAYS)
    moved_from_soon = {s.id: _slot_start(frm) <= soon for s, frm, _ in what.moves}
    done: set[tuple[int, int]] = set()
    for session, pid, method in ([(s, p, "REQUEST") for s, p in what.updated]
                                 + [(s, p, "CANCEL") for s, p in what.removed]):
        if (session.id, pid) in done:
            continue
        done.add((session.id, pid))
        person = db.session.get(Person, pid)
        user = _user_of(pid)
        if person is None or user is None:
            continue
        pref = preference(user)
        # A move is inside the frozen window if it leaves or arrives in it.
        inside = session.start_at <= soon or moved_from_soon.get(session.id, False)
        invite = pref.sessions_by == SessionsBy.EMAIL or (
            pref.sessions_by == SessionsBy.BOTH and inside)
        if invite:
            send_invitation(session, person, method, now)
        elif pref.changes and inside and pid != req.person_id and user.id != (
                actor.user.id if actor.user else None):  # the asker knows, or is told the decision
            _send(person.email, "A change to your protected time", [
                f"Your protected time on {_when(session.start_at)} "
                + ("is no longer yours to attend." if method == "CANCEL" else "has changed."),
                "See My time: " + _link("/me")], "change",
                key=f"change:{session.id}:{session.sequence}:{pid}", user=user)


def _slot_start(slot: str) -> datetime:
    from ..plans.calendar import Calendar, slot_times

    return slot_times(slot, Calendar.from_config())[0]


def send_invitation(session: ProtectedSession, person: Person, method: str,
                    now: datetime) -> None:
    """Queue one iMIP message (once per session, SEQUENCE, person and method)."""
    if session.status != RosterStatus.CONFIRMED:
        method = "CANCEL"
    start = _when(session.start_at)
    title = "Cancelled: protected time" if method == "CANCEL" else "Protected time"
    text = [f"{title}, {start}.",
            "This invitation keeps the time busy in your own calendar; it replaces any earlier "
            "one for the same session.", "See My time: " + _link("/me")]
    queue_message(
        recipient=person.email, subject=f"{title}: {start}", text="\n\n".join(text) + "\n",
        html="".join(f"<p>{escape(t)}</p>" for t in text),
        calendar=invitation(session, person, method, now), calendar_method=method,
        kind="invitation" if method == "REQUEST" else "cancellation",
        dedupe_key=f"imip:{session.uid}:{session.sequence}:{person.id}:{method}")


def invite_published(people: set[int], changed_at: datetime,
                     dropped: Collection[tuple[int, int]] = ()) -> int:
    """After a publish: an invitation (REQUEST, or CANCEL for a removed session) for each
    session it added or changed, to each of ``people`` who chose e-mail invitations (or both,
    for sessions in the next 14 days); and a CANCEL to each member ``dropped`` from a team
    session that goes on without them ((session id, person id) pairs). Returns the number
    queued."""
    if not people:
        return 0
    chosen = {u.person_id: preference(u) for u in db.session.scalars(
        sa.select(User).where(User.person_id.in_(people), User.active.is_(True)))}
    wanted = {pid for pid, pref in chosen.items()
              if pid is not None and pref.sessions_by != SessionsBy.FEED}
    if not wanted:
        return 0
    from ..models import Attendance

    now = now_utc()
    soon = now + timedelta(days=FROZEN_DAYS)
    rows = db.session.execute(
        sa.select(ProtectedSession, Attendance.person_id).join(Attendance)
        .where(Attendance.person_id.in_(wanted), ProtectedSession.last_modified >= changed_at,
               ProtectedSession.start_at > now)).all()
    queued = 0
    for session, pid in rows:
        if chosen[pid].sessions_by == SessionsBy.BOTH and session.start_at > soon:
            continue
        person = db.session.get(Person, pid)
        if person is None:
            continue
        method = "REQUEST" if session.status == RosterStatus.CONFIRMED else "CANCEL"
        send_invitation(session, person, method, now)
        queued += 1
    for session_id, pid in sorted(dropped):
        if pid not in wanted:
            continue
        left = db.session.get(ProtectedSession, session_id)
        person = db.session.get(Person, pid)
        if left is None or person is None or left.start_at <= now or any(
                a.person_id == pid for a in left.attendances):
            continue
        if chosen[pid].sessions_by == SessionsBy.BOTH and left.start_at > soon:
            continue
        send_invitation(left, person, "CANCEL", now)
        queued += 1
    return queued


def announce_waiting() -> int:
    """Tell rota managers, in one e-mail each, of the requests that began waiting since they
    were last told. Returns the number of messages queued."""
    fresh = list(db.session.scalars(sa.select(ChangeRequest).where(
        ChangeRequest.status == RequestStatus.PENDING, ChangeRequest.announced_at.is_(None))
        .order_by(ChangeRequest.created_at, ChangeRequest.id)))
    if not fresh:
        return 0
    now = now_utc()
    managers = db.session.scalars(sa.select(User).where(
        User.role.in_([UserRole.ROTA_MANAGER, UserRole.ADMIN]), User.active.is_(True))
        .order_by(User.id))
    sent = 0
    lines = [f"{len(fresh)} protected time request{'s' if len(fresh) != 1 else ''} "
             "wait for a decision:"]
    lines += [f"- {r.person.name}: {_what(r)}" + (f"; {r.held_because[0]}" if r.held_because
                                                     else "") for r in fresh]
    lines.append("Decide them here (oldest first): " + _link("/manage/requests"))
    for user in managers:
        if not preference(user).requests_waiting:
            continue
        _send(user.email, f"{len(fresh)} protected time request(s) wait for you", lines,
              "requests_waiting", key=f"waiting:{user.id}:{fresh[-1].id}", user=user)
        sent += 1
    for r in fresh:
        r.announced_at = now
    db.session.flush()
    return sent


def send_digests() -> int:
    """One e-mail per user who chose a daily digest and has notices kept since the last one
    (run once a day: ``sel-time requests digest``). Returns the number queued."""
    items = list(db.session.scalars(sa.select(DigestItem).where(DigestItem.sent_at.is_(None))
                                    .order_by(DigestItem.user_id, DigestItem.id)))
    by_user: dict[int, list[DigestItem]] = {}
    for item in items:
        by_user.setdefault(item.user_id, []).append(item)
    now = now_utc()
    day = now.astimezone(LONDON).date()
    queued = 0
    for user_id, kept in by_user.items():
        user = db.session.get(User, user_id)
        if user is not None and user.active:
            lines = [f"{len(kept)} notice{'s' if len(kept) != 1 else ''} from sel-time since "
                     "the last digest:"]
            for item in kept:
                lines += [item.subject, item.text]
            _send(user.email, f"Your sel-time digest for {day:%a} {day.day} {day:%b}", lines,
                  "digest", key=f"digest:{user_id}:{kept[-1].id}")
            queued += 1
        for item in kept:
            item.sent_at = now
    db.session.flush()
    return queued


@publishing.published.connect
def invite_on_publish(plan: object, *, people: set[int], now: datetime,
                      dropped: Collection[tuple[int, int]] = (), **_: object) -> None:
    """A publish sends invitations to the leaders who chose e-mail (:func:`invite_published`)."""
    invite_published(people, now, dropped)
