"""The data model. Import models from here."""
from .audit import AuditEvent
from .base import (
    WEEKDAYS,
    AbsenceKind,
    Borough,
    CommitmentUnit,
    Half,
    OrgKind,
    Period,
    Profession,
    RoleLevel,
    SessionKind,
    TeamKind,
    UserRole,
)
from .finance import RateCardEntry
from .organisation import Department, Organisation
from .people import Absence, AvoidPreference, PatternSession, Person
from .roles import LeadershipRole, RoleAssignment
from .teams import Team, team_member
from .users import ApiToken, User

__all__ = [
    "WEEKDAYS", "Absence", "AbsenceKind", "ApiToken", "AuditEvent", "AvoidPreference", "Borough",
    "CommitmentUnit", "Department", "Half", "LeadershipRole", "OrgKind", "Organisation",
    "PatternSession", "Period", "Person", "Profession", "RateCardEntry", "RoleAssignment",
    "RoleLevel", "SessionKind", "Team", "TeamKind", "User", "UserRole", "team_member",
]
