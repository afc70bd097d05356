"""How each user's sessions and e-mails reach them (feed, invitations or both; which
notifications)."""

from __future__ import annotations

from typing import Any

from ..core.audit import Actor, record
from ..core.errors import FieldError, ValidationError
from ..core.extensions import db
from ..models import User
from .models import MailPreference, SessionsBy

FLAGS = ("requests_waiting", "decisions", "changes", "daily_digest")


def get(user: User) -> MailPreference:
    pref = db.session.get(MailPreference, user.id)
    return pref if pref is not None else MailPreference(
        user_id=user.id, sessions_by=SessionsBy.FEED, requests_waiting=True, decisions=True,
        changes=True, daily_digest=False)


def update(user: User, data: dict[str, Any], actor: Actor) -> MailPreference:
    errors: list[FieldError] = []
    unknown = sorted(set(data) - {"sessions_by", *FLAGS})
    errors += [FieldError(k, "not a setting") for k in unknown]
    if "sessions_by" in data and data["sessions_by"] not in {s.value for s in SessionsBy}:
        errors.append(FieldError("sessions_by", "feed, email or both"))
    errors += [FieldError(k, "true or false") for k in FLAGS
               if k in data and not isinstance(data[k], bool)]
    if errors:
        raise ValidationError("Some settings are not valid", errors)
    pref = db.session.get(MailPreference, user.id)
    old = None if pref is None else pref.as_dict()
    if pref is None:
        pref = get(user)
        db.session.add(pref)
    if "sessions_by" in data:
        pref.sessions_by = SessionsBy(data["sessions_by"])
    for k in FLAGS:
        if k in data:
            setattr(pref, k, data[k])
    db.session.flush()
    record(actor, "update", "mail_preference", user.id, old, pref.as_dict())
    return pref
