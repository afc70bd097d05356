"""Who an organisation's account is in sel-time: the checks on the ID token's claims after
Authlib has validated it (signature, issuer, audience, expiry, nonce), the match by verified
e-mail to an existing user, the role from a groups claim where one is mapped, and the audit
trail of every sign-in and every refusal. Services: they flush, never commit."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..core.audit import Actor, record
from ..core.extensions import db
from ..models import User, UserRole
from .settings import SingleSignOn

ACTOR = Actor("single sign-on")
# The most privileged mapped group wins when someone is in several.
ROLE_ORDER = (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.FINANCE, UserRole.LEADER)


@dataclass
class Refused(Exception):
    """A sign-in that sel-time will not accept, with the sentence the person is shown."""

    reason: str  # a short code for the audit trail: wrong_issuer, unknown_user, ...
    title: str
    detail: str
    status: int = 403
    email: str = ""
    ask: bool = True  # whether the page tells them whom to ask

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _verified(value: object) -> bool:
    """``email_verified`` is a JSON boolean; some providers send the string "true"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def user_for(claims: Mapping[str, Any], sso: SingleSignOn) -> User:
    """The active sel-time user the validated ID token's claims name, by verified e-mail;
    :class:`Refused` with the reason otherwise. Sets the user's role from the groups claim
    when groups are mapped (audited)."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise Refused(
            "no_email", "Your organisation's account did not give an e-mail address",
            "sel-time matches your organisation's account to your sel-time account by e-mail "
            "address, and the sign-in service did not send one.",
        )
    if not _verified(claims.get(sso.email_verified_claim)):
        raise Refused(
            "email_not_verified", "Your e-mail address is not verified",
            f"Your organisation's sign-in service did not confirm that {email} is verified, "
            "so sel-time cannot be sure the account is yours.", email=email,
        )
    domain = email.rpartition("@")[2]
    if domain not in sso.allowed_domains:
        allowed = ", ".join(sorted(sso.allowed_domains))
        raise Refused(
            "domain_not_allowed", "This e-mail address cannot sign in to sel-time",
            f"{email} is not an address of the organisations that use sel-time; only addresses "
            f"ending in {allowed} can sign in.", email=email,
        )
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    if user is None or not user.active:
        raise Refused(
            "unknown_user" if user is None else "inactive_user",
            "You do not have a sel-time account",
            f"Your organisation's account ({email}) signed you in, but sel-time has no "
            f"{'' if user is None else 'active '}account with that e-mail address. sel-time only "
            "lets in people its rota managers have added.", email=email,
        )
    if sso.group_roles:
        _apply_group_role(user, claims.get(sso.groups_claim), sso, email)
    return user


def _apply_group_role(user: User, groups: object, sso: SingleSignOn, email: str) -> None:
    names = {str(g) for g in groups} if isinstance(groups, list) else set()
    mapped = {sso.group_roles[g] for g in names if g in sso.group_roles}
    if not mapped:
        raise Refused(
            "no_mapped_group", "Your account is not in a sel-time group",
            f"Your organisation's account ({email}) is in none of the groups that give access "
            "to sel-time.", email=email,
        )
    role = next(r for r in ROLE_ORDER if r in mapped)
    if user.role != role:
        record(ACTOR, "update", "user", user.id, {"role": user.role.value},
               {"role": role.value, "from": "groups claim"})
        user.role = role
        db.session.flush()


def record_sign_in(user: User, claims: Mapping[str, Any]) -> None:
    """Audit a sign-in through the organisation's account."""
    record(Actor.for_user(user), "sign_in", "user", user.id, new={
        "method": "single sign-on", "issuer": claims.get("iss"), "subject": claims.get("sub"),
    })


def record_refusal(refusal: Refused) -> None:
    """Audit a refused sign-in: the reason, and only a digest of the e-mail address."""
    user_id = None
    if refusal.email:
        user_id = db.session.scalar(
            sa.select(User.id).where(sa.func.lower(User.email) == refusal.email))
    new = {"method": "single sign-on", "reason": refusal.reason}
    if refusal.email:
        new["email_sha256"] = _digest(refusal.email)
    record(ACTOR, "sign_in_refused", "user", user_id, new=new)
