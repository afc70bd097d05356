"""Change requests: asking (move, swap, give back, cannot attend, team move), a swap's
partner answering, approval by the organisation's rule or by a rota manager, withdrawing.
Services flush; the request, page or command commits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..core.audit import Actor, record
from ..core.clock import now_utc
from ..core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    SelTimeError,
    ValidationError,
)
from ..core.extensions import db
from ..models import (
    Attendance,
    Outcome,
    ProtectedSession,
    RosterStatus,
    Team,
    User,
    UserRole,
)
from ..plans.publishing import serialise_publishes
from . import apply, notify
from .models import ApprovalRule, ChangeRequest, RequestClaim, RequestKind, RequestStatus
from .rules import LiveRules, Option

MANAGERS = (UserRole.ADMIN, UserRole.ROTA_MANAGER)
LOSSES = (Outcome.LOST_CLINICAL.value, Outcome.LOST_SICKNESS.value, Outcome.LOST_OTHER.value)
OPEN = (RequestStatus.AWAITING_PARTNER, RequestStatus.PENDING)


def attendance_of(user: User, attendance_id: Any, field: str = "attendance_id") -> Attendance:
    """An attendance the user may ask about: their own (a leader) or anyone's (a manager)."""
    if isinstance(attendance_id, bool) or not isinstance(attendance_id, int) or \
            not 0 < attendance_id < 2**31:
        raise ValidationError("Say which session", [FieldError(field, "a session's number")])
    att = db.session.get(Attendance, attendance_id)
    mine = att is not None and att.person_id == user.person_id
    if att is None or not (mine or user.role in MANAGERS):
        raise NotFound(f"No session {attendance_id} of yours")
    session = att.session
    if session.status != RosterStatus.CONFIRMED:
        raise ValidationError("This session was removed from the roster",
                              [FieldError(field, "cancelled")])
    if session.start_at <= now_utc():
        raise ValidationError("This session has started; record whether you got the time "
                              "instead", [FieldError(field, "already started")])
    return att


class NotTheLead(Forbidden):
    """A team member who does not lead the team asked to move its session (403, in words)."""

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        SelTimeError.__init__(self, detail, errors, 403, "Forbidden")


def team_move_refusal(user: User, att: Attendance) -> NotTheLead | None:
    """Why ``user`` may not ask to move the team session of ``att`` (None if they may): only
    the team's lead, or a rota manager, moves a team session; other members can say they
    cannot attend."""
    team = att.session.team
    if team is None or user.role in MANAGERS or (
            team.lead_person_id is not None and team.lead_person_id == att.person_id):
        return None
    return NotTheLead("Only the team's lead can ask to move a team session", [FieldError(
        "kind", f"{who_moves(team)}; you can say you cannot attend (cannot_attend) instead")])


def who_moves(team: Team) -> str:
    """Who may ask to move the team's sessions, in words."""
    lead = team.lead
    return (f"{lead.name} leads {team.name} and can ask to move its sessions"
            if lead is not None else
            f"{team.name} has no lead, so only a rota manager can move its sessions")


def options(user: User, attendance_id: int) -> tuple[Attendance, list[Option]]:
    """Where the session could go: its window's other slots, allowed first, cheapest first.
    A team member who may not move the team session (:func:`team_move_refusal`) is offered
    none."""
    att = attendance_of(user, attendance_id)
    if att.session.team_id is not None:
        if team_move_refusal(user, att) is not None:
            return att, []
        return att, LiveRules(att.session).team_options(att.session)
    return att, LiveRules(att.session).person_options(att.session, att.person_id,
                                                      att.cost_pence)


def rule_for(organisation_id: int) -> ApprovalRule:
    rule = db.session.get(ApprovalRule, organisation_id)
    return rule if rule is not None else ApprovalRule(organisation_id=organisation_id,
                                                      auto_approve=True, max_rise_pence=0)


def set_rule(organisation_id: int, auto_approve: bool, max_rise_pence: int,
             actor: Actor) -> ApprovalRule:
    if max_rise_pence < 0:
        raise ValidationError("The most a cost may rise cannot be negative",
                              [FieldError("max_rise", "0 or more pounds")])
    rule = db.session.get(ApprovalRule, organisation_id)
    old = None if rule is None else {"auto_approve": rule.auto_approve,
                                     "max_rise_pence": rule.max_rise_pence}
    if rule is None:
        rule = ApprovalRule(organisation_id=organisation_id)
        db.session.add(rule)
    rule.auto_approve, rule.max_rise_pence, rule.updated_at = auto_approve, max_rise_pence, \
        now_utc()
    db.session.flush()
    record(actor, "update", "approval_rule", organisation_id, old,
           {"auto_approve": auto_approve, "max_rise_pence": max_rise_pence})
    return rule


def _held_because(req: ChangeRequest) -> list[str]:
    """Why the organisation's rule does not approve this request by itself ([] if it does)."""
    rule = rule_for(req.organisation_id)
    if not rule.auto_approve:
        return ["this organisation's rota managers approve every request"]
    rise = req.cost_change_pence or 0
    if req.kind == RequestKind.TEAM_MOVE:
        sessions = max(1, len(req.session.attendances))
        rise = -(-rise // sessions)  # per session: each attendee's backfill
    if rise > rule.max_rise_pence:
        return [f"backfill cost rises by £{rise / 100:.2f} a session, more than the "
                f"£{rule.max_rise_pence / 100:.2f} this organisation approves by rule"]
    return []


def ask(user: User, data: dict[str, Any]) -> ChangeRequest:
    """A leader asks for a change. A move, team move or accepted swap that breaks a hard rule
    is refused in the rule's words; one within the organisation's rule is applied at once;
    others wait for a rota manager."""
    kind_text = data.get("kind")
    try:
        kind = RequestKind(str(kind_text))
    except ValueError:
        raise ValidationError("Say what you are asking for", [FieldError(
            "kind", "one of " + ", ".join(k.value for k in RequestKind))]) from None
    att = attendance_of(user, data.get("attendance_id"))
    session = att.session
    person = att.person
    actor = Actor.for_user(user)
    serialise_publishes()
    _no_open_request(session)
    req = ChangeRequest(kind=kind, status=RequestStatus.PENDING, person_id=person.id,
                        organisation_id=person.organisation_id, session_id=session.id,
                        base_sequence=session.sequence, from_slot=session.slot,
                        created_at=now_utc(), requested_by_id=user.id)
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise ValidationError("The reason is too long", [FieldError("reason",
                                                                    "at most 500 characters")])
    req.reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    rules: LiveRules | None = None  # built once per request: it reads the whole horizon
    if kind in (RequestKind.MOVE, RequestKind.TEAM_MOVE) and session.team_id is not None:
        refusal = team_move_refusal(user, att)
        if refusal is not None:
            raise refusal
    if kind in (RequestKind.MOVE, RequestKind.TEAM_MOVE):
        rules = _ask_move(req, att, data.get("to_slot"))
    elif kind == RequestKind.SWAP:
        _ask_swap(req, user, att, data.get("partner_attendance_id"))
    elif kind == RequestKind.GIVE_BACK:
        if session.team_id is not None:
            raise ValidationError("A team session is not given back", [FieldError(
                "kind", "say you cannot attend it (cannot_attend) instead")])
        outcome = data.get("outcome", Outcome.LOST_CLINICAL.value)
        if outcome not in LOSSES:
            raise ValidationError("Say why the time is lost", [FieldError(
                "outcome", "one of " + ", ".join(LOSSES))])
        if req.reason is None:
            raise ValidationError("Say why you are giving the time back",
                                  [FieldError("reason", "a few words")])
        req.lost_outcome = outcome
    elif kind == RequestKind.CANNOT_ATTEND:
        if session.team_id is None:
            raise ValidationError("Only a team session can be missed this way", [FieldError(
                "kind", "ask to move or give back an individual session")])
    db.session.add(req)
    db.session.flush()
    record(actor, "ask", "change_request", req.id, None, describe(req))
    if req.status == RequestStatus.PENDING:
        if kind in (RequestKind.GIVE_BACK, RequestKind.CANNOT_ATTEND):
            _approve(req, Actor("rule"), None)
        else:
            held = _held_because(req)
            if held:
                req.held_because = held
            else:
                _approve(req, Actor("rule"), None, rules)
    elif req.status == RequestStatus.AWAITING_PARTNER:
        notify.swap_asked(req)
    return req


def _no_open_request(session: ProtectedSession) -> None:
    open_req = db.session.scalar(sa.select(ChangeRequest.id).where(
        sa.or_(ChangeRequest.session_id == session.id,
               ChangeRequest.partner_session_id == session.id),
        ChangeRequest.status.in_(OPEN)))
    if open_req is not None:
        raise Conflict("This session already has a request waiting for an answer",
                       [FieldError("attendance_id", f"request {open_req} is open; withdraw it "
                                   "first")])


def _ask_move(req: ChangeRequest, att: Attendance, to_slot: Any) -> LiveRules:
    session = att.session
    team = session.team_id is not None
    if team != (req.kind == RequestKind.TEAM_MOVE):
        raise ValidationError("Use a team move for a team session, a move for your own",
                              [FieldError("kind", "team_move" if team else "move")])
    if not isinstance(to_slot, str) or not to_slot:
        raise ValidationError("Say where to move it", [FieldError(
            "to_slot", "a slot such as 2027-01-14/PM (see the alternatives)")])
    rules = LiveRules(session)
    found = rules.team_options(session) if team else \
        rules.person_options(session, att.person_id, att.cost_pence)
    option = next((o for o in found if o.slot == to_slot), None)
    if option is None:
        raise ValidationError("That is not a slot this session can move to", [FieldError(
            "to_slot", f"{to_slot} is not another session of the same window that is still "
            "to come")])
    if not option.allowed:
        raise ValidationError(f"{option.label} breaks a rule",
                              [FieldError("to_slot", r) for r in option.reasons])
    req.to_slot, req.cost_change_pence = to_slot, option.cost_change_pence
    return rules


def _ask_swap(req: ChangeRequest, user: User, att: Attendance, partner_id: Any) -> None:
    session = att.session
    if session.team_id is not None:
        raise ValidationError("Team sessions are not swapped", [FieldError("kind", "team")])
    if isinstance(partner_id, bool) or not isinstance(partner_id, int) or \
            not 0 < partner_id < 2**31:
        raise ValidationError("Say whose session to swap with", [FieldError(
            "partner_attendance_id", "a colleague's session number")])
    other = db.session.get(Attendance, partner_id)
    if other is None or other.session.team_id is not None or \
            other.session.status != RosterStatus.CONFIRMED:
        raise ValidationError("No such session to swap with", [FieldError(
            "partner_attendance_id", f"no individual session {partner_id}")])
    if other.person_id == att.person_id:
        raise ValidationError("Swap with a colleague", [FieldError(
            "partner_attendance_id", "that session is yours")])
    me, them = att.person, other.person
    same_department = me.department_id is not None and me.department_id == them.department_id
    shared_team = bool({t.id for t in _teams(me.id)} & {t.id for t in _teams(them.id)})
    if not (same_department or shared_team):
        raise ValidationError("Swap within your team or department", [FieldError(
            "partner_attendance_id", f"{them.name} is in neither your department nor a team "
            "of yours")])
    if other.session.start_at <= now_utc():
        raise ValidationError("That session has started", [FieldError(
            "partner_attendance_id", "already started")])
    _no_open_request(other.session)
    rules = LiveRules(session)
    allowed, reasons = rules.judge_swap(session, other.session)
    if not allowed:
        raise ValidationError("This swap breaks a rule",
                              [FieldError("partner_attendance_id", r) for r in reasons])
    req.partner_session_id, req.partner_sequence = other.session.id, other.session.sequence
    req.partner_person_id = other.person_id
    req.cost_change_pence = (rules.cost_pence(me.id, other.session.slot) - att.cost_pence
                             + rules.cost_pence(them.id, session.slot) - other.cost_pence)
    req.to_slot = other.session.slot
    req.status = RequestStatus.AWAITING_PARTNER


def _teams(person_id: int) -> list[Any]:
    from ..models import team_member

    return list(db.session.scalars(sa.select(Team).join(
        team_member, team_member.c.team_id == Team.id).where(
        team_member.c.person_id == person_id)))


def get(request_id: int) -> ChangeRequest:
    req = db.session.get(ChangeRequest, request_id)
    if req is None:
        raise NotFound(f"No request {request_id}")
    return req


def visible(user: User, request_id: int) -> ChangeRequest:
    req = get(request_id)
    if user.role in MANAGERS or user.person_id in (req.person_id, req.partner_person_id):
        return req
    raise NotFound(f"No request {request_id}")


def answer_swap(user: User, request_id: int, accept: bool) -> ChangeRequest:
    """The other leader of a swap accepts (then the rule or a rota manager decides) or
    declines. A swap only one leader accepted never applies."""
    req = visible(user, request_id)
    if user.person_id != req.partner_person_id:
        raise Forbidden("Only the colleague asked can answer this swap")
    if req.status != RequestStatus.AWAITING_PARTNER:
        raise Conflict(f"This request is {req.status.value.replace('_', ' ')}",
                       [FieldError("request", req.status.value)])
    actor = Actor.for_user(user)
    serialise_publishes()
    req.partner_answered_at = now_utc()
    record(actor, "accept" if accept else "decline", "change_request", req.id,
           {"status": req.status.value}, {"partner_accepted": accept})
    if not accept:
        _close(req, RequestStatus.DECLINED, actor, "the colleague declined the swap")
        notify.decided(req)
        return req
    req.status = RequestStatus.PENDING
    held = _held_because(req)
    if held:
        req.held_because = held
        db.session.flush()
        return req
    _approve(req, Actor("rule"), None)
    notify.decided(req)
    return req


def decide(user: User, request_id: int, approve: bool, reason: str | None) -> ChangeRequest:
    """A rota manager approves (the rules are checked again against the roster as it is now)
    or declines with a reason."""
    if user.role not in MANAGERS:
        raise Forbidden("Only rota managers decide requests")
    req = get(request_id)
    if req.status != RequestStatus.PENDING:
        raise Conflict(f"This request is {req.status.value.replace('_', ' ')}, not waiting",
                       [FieldError("request", req.status.value)])
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 500:
        raise ValidationError("The reason is too long", [FieldError("reason",
                                                                    "at most 500 characters")])
    actor = Actor.for_user(user)
    serialise_publishes()
    if not approve:
        if reason is None:
            raise ValidationError("Say why the request is declined",
                                  [FieldError("reason", "a reason the leader will read")])
        _close(req, RequestStatus.DECLINED, actor, reason)
    else:
        _approve(req, actor, reason)
    notify.decided(req)
    return req


def withdraw(user: User, request_id: int) -> ChangeRequest:
    req = visible(user, request_id)
    if user.person_id != req.person_id:
        raise Forbidden("Only the leader who asked can withdraw a request")
    if req.status not in OPEN:
        raise Conflict(f"This request is {req.status.value.replace('_', ' ')}",
                       [FieldError("request", req.status.value)])
    _close(req, RequestStatus.WITHDRAWN, Actor.for_user(user), None)
    return req


def _close(req: ChangeRequest, status: RequestStatus, actor: Actor, reason: str | None) -> None:
    old = req.status.value
    req.status, req.decided_at, req.decided_by = status, now_utc(), actor.label
    req.decision_reason = reason
    db.session.flush()
    record(actor, status.value, "change_request", req.id, {"status": old},
           {"status": status.value, "reason": reason})


def _approve(req: ChangeRequest, actor: Actor, reason: str | None,
             rules: LiveRules | None = None) -> None:
    """Check the request against the roster as it is now, claim its session(s) (the
    database refuses a second approved request for one session), apply it, tell people."""
    session = req.session
    partner = req.partner_session
    if session.sequence != req.base_sequence or session.status != RosterStatus.CONFIRMED or (
            partner is not None and (partner.sequence != req.partner_sequence
                                     or partner.status != RosterStatus.CONFIRMED)):
        _close(req, RequestStatus.OVERTAKEN, actor, "the session changed after the request")
        return
    now = now_utc()
    changed = apply.Changed()
    if req.kind in (RequestKind.MOVE, RequestKind.TEAM_MOVE):
        rules = rules or LiveRules(session)
        att = next((a for a in session.attendances if a.person_id == req.person_id), None)
        found = rules.team_options(session) if req.kind == RequestKind.TEAM_MOVE else \
            rules.person_options(session, req.person_id, att.cost_pence if att else 0)
        option = next((o for o in found if o.slot == req.to_slot), None)
        if option is None or not option.allowed:
            raise Conflict("The roster has changed: this move now breaks a rule", [
                FieldError("to_slot", r) for r in (option.reasons if option else
                                                   ("no longer in the window",))])
        if req.kind == RequestKind.TEAM_MOVE:
            costs = {p: rules.cost_pence(p, option.slot) for p in option.attendees or ()}
        else:
            costs = {req.person_id: rules.cost_pence(req.person_id, option.slot)}
        _claim(req)
        apply.move(session, option.slot, costs, actor, now, changed, req.id)
    elif req.kind == RequestKind.SWAP:
        assert partner is not None and req.partner_person_id is not None
        rules = rules or LiveRules(session)
        allowed, reasons = rules.judge_swap(session, partner)
        if not allowed:
            raise Conflict("The roster has changed: this swap now breaks a rule",
                           [FieldError("partner_attendance_id", r) for r in reasons])
        mine, theirs = session.slot, partner.slot
        _claim(req)
        apply.move(session, theirs, {req.person_id: rules.cost_pence(req.person_id, theirs)},
                   actor, now, changed, req.id)
        apply.move(partner, mine, {req.partner_person_id: rules.cost_pence(
            req.partner_person_id, mine)}, actor, now, changed, req.id)
    elif req.kind == RequestKind.CANNOT_ATTEND:
        _claim(req)
        apply.leave_team_session(session, req.person_id, actor, now, changed, req.id)
    else:  # give back
        att = next(a for a in session.attendances if a.person_id == req.person_id)
        _claim(req)
        apply.give_back(att, req.lost_outcome or Outcome.LOST_OTHER.value, req.reason or "",
                        actor, now, req.id)
    old = req.status.value
    req.status, req.decided_at, req.decided_by = RequestStatus.APPROVED, now, actor.label
    req.decision_reason = reason
    db.session.flush()
    record(actor, "approve", "change_request", req.id, {"status": old},
           {"status": "approved", "reason": reason})
    notify.changed(req, changed, actor)


def _claim(req: ChangeRequest) -> None:
    claims = [RequestClaim(session_id=req.session_id, sequence=req.base_sequence,
                           request_id=req.id)]
    if req.partner_session_id is not None and req.partner_sequence is not None:
        claims.append(RequestClaim(session_id=req.partner_session_id,
                                   sequence=req.partner_sequence, request_id=req.id))
    try:
        with db.session.begin_nested():
            db.session.add_all(claims)
    except IntegrityError:
        raise Conflict("Another request for this session was approved first", [FieldError(
            "request", "the session has already been changed")]) from None


def waiting(organisation_id: int | None = None) -> list[ChangeRequest]:
    """The rota managers' queue: requests waiting for a decision, oldest first."""
    q = sa.select(ChangeRequest).where(ChangeRequest.status == RequestStatus.PENDING)
    if organisation_id is not None:
        q = q.where(ChangeRequest.organisation_id == organisation_id)
    return list(db.session.scalars(q.order_by(ChangeRequest.created_at, ChangeRequest.id)))


def mine(user: User) -> list[ChangeRequest]:
    if user.person_id is None:
        return []
    return list(db.session.scalars(sa.select(ChangeRequest).where(sa.or_(
        ChangeRequest.person_id == user.person_id,
        ChangeRequest.partner_person_id == user.person_id)).order_by(
        ChangeRequest.created_at.desc(), ChangeRequest.id.desc()).limit(50)))


def describe(req: ChangeRequest) -> dict[str, Any]:
    """A request as the API and the audit trail show it."""
    return {
        "id": req.id, "kind": req.kind.value, "status": req.status.value,
        "person_id": req.person_id, "organisation_id": req.organisation_id,
        "session_id": req.session_id, "from_slot": req.from_slot, "to_slot": req.to_slot,
        "partner_session_id": req.partner_session_id,
        "partner_person_id": req.partner_person_id,
        "cost_change": None if req.cost_change_pence is None
        else round(req.cost_change_pence / 100, 2),
        "reason": req.reason, "outcome": req.lost_outcome,
        "held_because": req.held_because or [],
        "created_at": req.created_at.isoformat() if req.created_at else None,
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "decided_by": req.decided_by, "decision_reason": req.decision_reason,
    }
