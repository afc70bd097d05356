"""Ideas: leaders submit them (named or anonymous), others support them, programme leads
moderate each: under review, adopted, or not taken forward. Flush-only."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.clock import today_london
from ..core.errors import Conflict, FieldError, NotFound, ValidationError
from ..core.extensions import db
from ..models import User
from .models import Idea, IdeaStatus, IdeaSupport

MODERATED = (IdeaStatus.UNDER_REVIEW, IdeaStatus.ADOPTED, IdeaStatus.NOT_TAKEN_FORWARD)
STATUS_WORDS = {
    IdeaStatus.SUBMITTED: "Submitted",
    IdeaStatus.UNDER_REVIEW: "Under review",
    IdeaStatus.ADOPTED: "Adopted",
    IdeaStatus.NOT_TAKEN_FORWARD: "Not taken forward",
}


def submit_idea(user: User, title: str, body: str, anonymous: bool) -> Idea:
    """A new idea; an anonymous one keeps no trace of who sent it (not even in the audit)."""
    title, body = (title or "").strip(), (body or "").strip()
    errors = []
    if not 1 <= len(title) <= 200:
        errors.append(FieldError("title", "Enter a title of 1 to 200 characters"))
    if not 1 <= len(body) <= 5000:
        errors.append(FieldError("body", "Describe the idea in 1 to 5000 characters"))
    if errors:
        raise ValidationError("The idea cannot be sent", errors)
    idea = Idea(title=title, body=body, author_id=None if anonymous else user.id,
                status=IdeaStatus.SUBMITTED, submitted_on=today_london())
    db.session.add(idea)
    db.session.flush()
    if not anonymous:
        record(Actor.for_user(user), "create", "idea", idea.id, None, {"title": title})
    return idea


def get_idea(idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is None:
        raise NotFound(f"No idea {idea_id}")
    return idea


def support_idea(user: User, idea: Idea) -> Idea:
    if db.session.get(IdeaSupport, (idea.id, user.id)) is not None:
        raise Conflict("You already support this idea", [FieldError("idea", "supported")])
    db.session.add(IdeaSupport(idea_id=idea.id, user_id=user.id))
    db.session.flush()
    record(Actor.for_user(user), "support", "idea", idea.id, None, None)
    db.session.refresh(idea)
    return idea


def moderate_idea(idea: Idea, status: str, note: str | None, actor: Actor) -> Idea:
    try:
        new = IdeaStatus(status)
    except ValueError:
        new = IdeaStatus.SUBMITTED
    if new not in MODERATED:
        raise ValidationError("Unknown decision", [FieldError(
            "status", "Choose under_review, adopted or not_taken_forward")])
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise ValidationError("The note is too long",
                              [FieldError("note", "at most 500 characters")])
    old = idea.status.value
    idea.status, idea.moderation_note = new, note
    db.session.flush()
    record(actor, "moderate", "idea", idea.id, {"status": old}, {"status": new.value})
    return idea


def list_ideas() -> list[Idea]:
    ideas = db.session.scalars(sa.select(Idea)).all()
    return sorted(ideas, key=lambda i: (-len(i.supports), i.title))


def idea_dict(idea: Idea, viewer: User | None = None) -> dict[str, Any]:
    return {
        "id": idea.id,
        "title": idea.title,
        "body": idea.body,
        "author": idea.author.name if idea.author is not None else None,
        "anonymous": idea.author_id is None,
        "status": idea.status.value,
        "status_words": STATUS_WORDS[idea.status],
        "moderation_note": idea.moderation_note,
        "submitted_on": idea.submitted_on.isoformat(),
        "supporters": len(idea.supports),
        "supported_by_me": viewer is not None and any(s.user_id == viewer.id
                                                      for s in idea.supports),
    }
