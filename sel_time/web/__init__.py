"""The web app for rota managers, leaders and finance: server-rendered pages in the NHS.UK
design system, sign-in with Flask-Login, CSRF on every form with Flask-WTF."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, abort, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from ..core.extensions import db
from ..core.transaction import transactional
from ..models import User, UserRole

bp = Blueprint("web", __name__, template_folder="../templates")
login_manager = LoginManager()
csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])

HOME = {
    UserRole.ADMIN: "web.manage_dashboard",
    UserRole.ROTA_MANAGER: "web.manage_dashboard",
    UserRole.FINANCE: "web.finance_dashboard",
    UserRole.LEADER: "web.my_time",
    UserRole.PROGRAMME_LEAD: "progress.dashboard",
}


def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


login_manager.user_loader(_load_user)  # registered by a call: Flask-Login is untyped


def roles_required(*roles: UserRole) -> Callable[[F], F]:
    """Signed in, with one of ``roles`` (403 otherwise); one transaction per request."""

    def decorate(view: F) -> F:
        inner = transactional(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if roles and current_user.role not in roles:
                abort(403)
            return inner(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


MANAGERS = (UserRole.ADMIN, UserRole.ROTA_MANAGER)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(response: Response) -> Response:
    """Headers on every response (feeds add their own; theirs win)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_web(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Sign in to continue"
    csrf.init_app(app)
    from datetime import timedelta

    from .formats import register_formats
    from .forms import in_words

    app.register_blueprint(bp)
    register_formats(app)
    app.jinja_env.filters["in_words"] = in_words  # validation as sentences, on every form
    app.after_request(security_headers)
    app.jinja_env.globals["timedelta"] = timedelta


def nav_for(role: UserRole) -> Iterable[tuple[str, str]]:
    if role in MANAGERS:
        yield ("Dashboard", "web.manage_dashboard")
        yield ("Plans", "web.plans")
        yield ("People", "web.people")
        yield ("Roles", "web.roles")
        yield ("Role assignments", "web.assignments")
        yield ("Teams", "web.teams")
        yield ("Departments", "web.departments")
        yield ("Leave", "web.leave")
        yield ("Import", "web.import_page")
        yield ("Work queue", "web.queue_page")
    if role in (UserRole.FINANCE, UserRole.ADMIN, UserRole.ROTA_MANAGER):
        yield ("Costs", "web.finance_dashboard")
        yield ("What if", "web.whatif_page")
    if role == UserRole.LEADER:
        yield ("My protected time", "web.my_time")
        yield ("Subscribe", "web.subscribe")
    if role in (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.PROGRAMME_LEAD):
        yield ("Progress", "progress.dashboard")
    if role in (UserRole.ADMIN, UserRole.ROTA_MANAGER, UserRole.PROGRAMME_LEAD, UserRole.FINANCE):
        yield ("Board report", "progress.board_page")
    yield ("Ideas", "progress.ideas_page")


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    if current_user.is_authenticated:
        return {"nav": list(nav_for(current_user.role))}
    return {"nav": []}
