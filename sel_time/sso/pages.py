"""The sign-in pages of single sign-on: start (to the provider), the callback (validate, match,
sign in or refuse with a page that says why and whom to ask), and the return from the
provider's sign-out."""

from __future__ import annotations

import logging

import requests
import sqlalchemy as sa
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_user
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from werkzeug.wrappers import Response

from ..core.transaction import boundary
from . import CLIENT, ID_TOKEN, public_url, signin, state
from .signin import Refused

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)
NEXT = "sso_next"
LEEWAY = 60  # seconds of clock difference allowed with the provider


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else ""


@bp.get("/login/sso")
def start() -> Response | tuple[str, int]:
    """Send the browser to the provider with state, nonce and a PKCE challenge (S256)."""
    current = state()
    if current.sso is None:
        abort(404)
    session[NEXT] = _safe_next(request.args.get("next", ""))
    # One sign-in at a time per browser: a sign-in started earlier and abandoned is forgotten,
    # so that repeated clicks cannot grow the session cookie past what browsers keep (4 kB).
    for key in [k for k in session if k.startswith(f"_state_{CLIENT}_")]:
        session.pop(key)
    try:
        response: Response = current.client().authorize_redirect(public_url("sso.callback"))
    except (requests.RequestException, ValueError, KeyError) as exc:
        return _unreachable(exc)
    return response


@bp.get("/login/sso/callback")
def callback() -> Response | tuple[str, int]:
    """The provider's answer: exchange the code (with the PKCE verifier), validate the ID token,
    and sign the matching sel-time user in; any failure is refused with a page in words."""
    current = state()
    if current.sso is None:
        abort(404)
    sso = current.sso
    try:
        token = current.client().authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": sso.issuer},
                "aud": {"essential": True, "value": sso.client_id},
                "exp": {"essential": True},
            },
            leeway=LEEWAY,
        )
        claims = token.get("userinfo")
        if not claims:
            raise Refused("no_id_token", "The sign-in service sent no ID token",
                          "sel-time needs an OpenID Connect ID token to know who you are.")
        with boundary():
            user = signin.user_for(claims, sso)
            signin.record_sign_in(user, claims)
            login_user(user)
            session[ID_TOKEN] = token["id_token"]
    except requests.RequestException as exc:
        return _unreachable(exc)
    except Refused as refusal:
        return _refuse(refusal)
    except sa.exc.DBAPIError:
        raise  # the database's own answer (503 with Retry-After), not a refusal
    except Exception as exc:  # noqa: BLE001  each validation failure becomes a refusal page
        return _refuse(_refusal_for(exc))
    log.info("Signed in through single sign-on: user %s", user.id)
    target = _safe_next(session.pop(NEXT, "") or "") or url_for("web.home")
    return redirect(target)


def _refusal_for(exc: Exception) -> Refused:
    """The sentence for each way the provider's answer can fail validation."""
    start_again = " Start again from the sign-in page."
    if isinstance(exc, MismatchingStateError):
        return Refused(
            "state_mismatch", "This sign-in link has already been used",
            "The answer from your organisation's sign-in service does not match a sign-in "
            "started in this browser: it was used already, or it was started elsewhere or too "
            "long ago." + start_again, status=400, ask=False)
    if isinstance(exc, ExpiredTokenError):
        return Refused(
            "token_expired", "The sign-in has expired",
            "The sign-in service sent an ID token that had already expired, so sel-time cannot "
            "accept it. If this keeps happening, the clock of the sign-in service or of sel-time "
            "may be wrong." + start_again, status=401)
    if isinstance(exc, ClaimError):
        claim = exc.claim
        if claim == "iss":
            return Refused(
                "wrong_issuer", "The sign-in came from the wrong sign-in service",
                "The ID token was issued by a service other than the one sel-time is set up to "
                "trust, so sel-time refused it.", status=401)
        if claim in ("aud", "azp"):
            return Refused(
                "wrong_audience", "The sign-in was meant for another application",
                "The ID token was issued for a different application, not for sel-time, so "
                "sel-time refused it.", status=401)
        if claim == "nonce":
            return Refused(
                "nonce_mismatch", "The sign-in does not match this browser",
                "The ID token does not carry the one-time value sel-time sent with this "
                "sign-in, so it may have been replayed." + start_again, status=401)
        return Refused(
            "invalid_id_token", "The sign-in could not be checked",
            f"The ID token's {claim!r} claim is missing or not valid.", status=401)
    if isinstance(exc, JoseError):
        return Refused(
            "invalid_id_token", "The sign-in could not be checked",
            "The ID token's signature or format is not valid, so sel-time refused it.",
            status=401)
    if isinstance(exc, OAuthError):
        said = exc.description or exc.error or "no reason given"
        return Refused(
            "provider_error", "Your organisation's sign-in service did not sign you in",
            f"It answered: {said}." + start_again, status=400)
    log.exception("Single sign-on failed")
    return Refused("sign_in_failed", "The sign-in did not work",
                   "sel-time could not complete the sign-in." + start_again, status=400)


def _refuse(refusal: Refused) -> tuple[str, int]:
    log.warning("Single sign-on refused: %s", refusal.reason)
    session.pop(NEXT, None)
    with boundary():
        signin.record_refusal(refusal)
    sso = state().sso
    page = render_template("sso/refused.html", title=refusal.title, refusal=refusal,
                           help_contact=sso.help_contact if sso else "")
    return page, refusal.status


def _unreachable(exc: Exception) -> tuple[str, int]:
    log.warning("The sign-in service could not be reached: %s", exc)
    sso = state().sso
    page = render_template(
        "sso/refused.html", title="The sign-in service cannot be reached",
        refusal=Refused("provider_unreachable", "The sign-in service cannot be reached",
                        "sel-time could not reach your organisation's sign-in service. Try "
                        "again in a few minutes.", status=503),
        help_contact=sso.help_contact if sso else "")
    return page, 503


@bp.get("/login/sso/signed-out")
def signed_out() -> Response:
    """Back from the provider's sign-out (RP-initiated logout)."""
    current = state()
    if current.sso is None:
        abort(404)
    try:
        current.client().validate_logout_response()
        flash("You have signed out of sel-time and of your organisation's account", "success")
    except OAuthError:
        flash("You have signed out of sel-time", "success")
    return redirect(url_for("web.login"))
