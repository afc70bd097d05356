"""The demo's user accounts."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import UserRole

DEMO_ACCOUNTS = (
    ("admin@sel-time.demo", "Demo Administrator", UserRole.ADMIN),
    ("rota@sel-time.demo", "Demo Rota Manager", UserRole.ROTA_MANAGER),
    ("finance@sel-time.demo", "Demo Finance Officer", UserRole.FINANCE),
)
#: The demo leader account belongs to the clinical director of this PCN.
LEADER_ACCOUNT_PCN = "PCN-NLAM"


@dataclass(frozen=True)
class DemoAccount:
    """A demo user: passwords are set by the caller (``password_hash`` is left empty)."""

    email: str
    role: UserRole
    person_email: str | None = None
