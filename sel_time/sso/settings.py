"""Single sign-on settings, read once at start-up from the app's configuration (the
``SEL_TIME_SSO_*``, ``SEL_TIME_LOCAL_PASSWORDS`` and ``SEL_TIME_BREAK_GLASS_ADMIN`` variables,
see config.py and the README). A half-made configuration stops the start with a sentence that
names the variable to set: a service that silently ignored its single sign-on settings would
leave people signing in with passwords the organisation thought were switched off."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.startup import ConfigurationError
from ..models import UserRole

if TYPE_CHECKING:
    from flask import Flask

# The four settings single sign-on needs, each with the variable that sets it.
REQUIRED = (
    ("SSO_ISSUER", "SEL_TIME_SSO_ISSUER"),
    ("SSO_CLIENT_ID", "SEL_TIME_SSO_CLIENT_ID"),
    ("SSO_CLIENT_SECRET", "SEL_TIME_SSO_CLIENT_SECRET"),
    ("SSO_ALLOWED_DOMAINS", "SEL_TIME_SSO_ALLOWED_DOMAINS"),
)
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DEFAULT_HELP = "your rota manager or the sel-time administrator"


@dataclass(frozen=True)
class SingleSignOn:
    """How sel-time talks to the organisation's OpenID Connect provider."""

    issuer: str
    client_id: str
    client_secret: str
    allowed_domains: frozenset[str]
    scopes: str = "openid email profile"
    email_verified_claim: str = "email_verified"
    groups_claim: str = ""
    group_roles: Mapping[str, UserRole] = field(default_factory=dict)
    help_contact: str = DEFAULT_HELP

    @property
    def metadata_url(self) -> str:
        """Where the provider publishes its settings (OpenID Connect Discovery)."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Passwords:
    """Whether local passwords sign anyone in, and who keeps one when they are switched off."""

    enabled: bool = True
    break_glass_admin: str = ""

    def allowed_for(self, email: str) -> bool:
        return self.enabled or (bool(self.break_glass_admin) and email == self.break_glass_admin)


def _text(config: Mapping[str, Any], key: str) -> str:
    return str(config.get(key) or "").strip()


def single_sign_on(config: Mapping[str, Any]) -> SingleSignOn | None:
    """The single sign-on settings, None when none are given; a half-made or wrong
    configuration raises :class:`ConfigurationError` naming the variable."""
    given = {key: _text(config, key) for key, _ in REQUIRED}
    if not any(given.values()):
        for key, variable in (("SSO_GROUPS_CLAIM", "SEL_TIME_SSO_GROUPS_CLAIM"),
                              ("SSO_GROUP_ROLES", "SEL_TIME_SSO_GROUP_ROLES")):
            if _text(config, key):
                raise ConfigurationError(
                    f"{variable} is set but single sign-on is not: set SEL_TIME_SSO_ISSUER, "
                    "SEL_TIME_SSO_CLIENT_ID, SEL_TIME_SSO_CLIENT_SECRET and "
                    f"SEL_TIME_SSO_ALLOWED_DOMAINS too, or unset {variable}."
                )
        return None
    missing = [variable for key, variable in REQUIRED if not given[key]]
    if missing:
        present = [variable for key, variable in REQUIRED if given[key]]
        raise ConfigurationError(
            f"single sign-on is half configured: {_in_words(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (but {_in_words(present)} "
            f"{'is' if len(present) == 1 else 'are'}). Set {'it' if len(missing) == 1 else 'them'}"
            " from the provider's app registration, or unset all the SEL_TIME_SSO_ variables to "
            "sign in with passwords only."
        )
    issuer = given["SSO_ISSUER"]
    production = config.get("SEL_TIME_ENV", "production") == "production"
    if not re.match(r"^https?://[^/\s]+", issuer) or (production and not issuer.startswith(
            "https://")):
        raise ConfigurationError(
            f"SEL_TIME_SSO_ISSUER must be the provider's https issuer URL, such as "
            f"https://login.microsoftonline.com/<tenant>/v2.0, not {issuer!r}."
        )
    domains = frozenset(d.strip().lower().lstrip("@")
                        for d in given["SSO_ALLOWED_DOMAINS"].split(",") if d.strip())
    bad = sorted(d for d in domains if not DOMAIN.match(d))
    if bad or not domains:
        raise ConfigurationError(
            "SEL_TIME_SSO_ALLOWED_DOMAINS must list e-mail domains separated by commas, such as "
            f"nhs.net,slam.nhs.uk; {', '.join(repr(d) for d in bad) or 'none'} is not one."
        )
    groups_claim = _text(config, "SSO_GROUPS_CLAIM")
    group_roles = _group_roles(_text(config, "SSO_GROUP_ROLES"))
    if group_roles and not groups_claim:
        raise ConfigurationError(
            "SEL_TIME_SSO_GROUP_ROLES is set but SEL_TIME_SSO_GROUPS_CLAIM is not: name the ID "
            "token's claim that lists the groups (groups for Entra ID)."
        )
    if groups_claim and not group_roles:
        raise ConfigurationError(
            "SEL_TIME_SSO_GROUPS_CLAIM is set but SEL_TIME_SSO_GROUP_ROLES is not: map each "
            "group to a sel-time role, such as <group id>=admin,<group id>=leader."
        )
    scopes = _text(config, "SSO_SCOPES") or "openid email profile"
    if "openid" not in scopes.split():
        raise ConfigurationError(
            f"SEL_TIME_SSO_SCOPES must include openid (for example 'openid email profile'), "
            f"not {scopes!r}."
        )
    return SingleSignOn(
        issuer=issuer,
        client_id=given["SSO_CLIENT_ID"],
        client_secret=given["SSO_CLIENT_SECRET"],
        allowed_domains=domains,
        scopes=scopes,
        email_verified_claim=_text(config, "SSO_EMAIL_VERIFIED_CLAIM") or "email_verified",
        groups_claim=groups_claim,
        group_roles=group_roles,
        help_contact=_text(config, "SSO_HELP_CONTACT") or DEFAULT_HELP,
    )


def _in_words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _group_roles(text: str) -> dict[str, UserRole]:
    roles: dict[str, UserRole] = {}
    choices = ", ".join(r.value for r in UserRole)
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        group, sep, role = item.rpartition("=")
        group, role = group.strip(), role.strip().lower()
        if not sep or not group or role not in {r.value for r in UserRole}:
            raise ConfigurationError(
                "SEL_TIME_SSO_GROUP_ROLES must map groups to roles as <group>=<role>, separated "
                f"by commas, with a role among {choices}; {item!r} is not one."
            )
        roles[group] = UserRole(role)
    return roles


def passwords(config: Mapping[str, Any], sso: SingleSignOn | None) -> Passwords:
    """Whether local passwords work (``SEL_TIME_LOCAL_PASSWORDS``, on by default) and the
    break-glass administrator who keeps one when they are off."""
    value = _text(config, "LOCAL_PASSWORDS").lower() or "on"
    if value not in ("on", "off"):
        raise ConfigurationError(
            f"SEL_TIME_LOCAL_PASSWORDS must be on or off, not {value!r}."
        )
    break_glass = _text(config, "BREAK_GLASS_ADMIN").lower()
    if value == "off" and sso is None:
        raise ConfigurationError(
            "SEL_TIME_LOCAL_PASSWORDS is off but single sign-on is not configured: nobody could "
            "sign in. Set SEL_TIME_SSO_ISSUER, SEL_TIME_SSO_CLIENT_ID, SEL_TIME_SSO_CLIENT_SECRET "
            "and SEL_TIME_SSO_ALLOWED_DOMAINS, or turn passwords back on."
        )
    if break_glass and "@" not in break_glass:
        raise ConfigurationError(
            f"SEL_TIME_BREAK_GLASS_ADMIN must be the e-mail address of an administrator, not "
            f"{break_glass!r}."
        )
    return Passwords(enabled=value == "on", break_glass_admin=break_glass)


def check_single_sign_on(app: Flask) -> None:
    """Refuse to start with single sign-on half configured (the sentence names the missing
    ``SEL_TIME_SSO_`` variable), with a wrong issuer URL, domain list or group mapping, or with
    local passwords switched off and no single sign-on to sign in with."""
    passwords(app.config, single_sign_on(app.config))
