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
from .feeds import FeedCache, FeedKind, FeedToken
from .finance import RateCardEntry
from .jobs import JobRun, NightPart, PartStatus, RunStatus
from .organisation import Department, Organisation
from .people import Absence, AvoidPreference, PatternSession, Person
from .plans import Plan, PlanAttendee, PlanSession, PlanShortfall, PlanStatus, SessionOrigin
from .roles import LeadershipRole, RoleAssignment
from .roster import Attendance, Outcome, ProtectedSession, RosterStatus
from .teams import Team, team_member
from .users import ApiToken, LoginFailure, User
from .whatif import WhatIfRun, WhatIfStatus

__all__ = [
    "WEEKDAYS",
    "JobRun",
    "NightPart",
    "PartStatus",
    "RunStatus",
    "FeedCache",
    "FeedKind",
    "FeedToken",
    "Attendance",
    "Outcome",
    "Plan",
    "PlanAttendee",
    "PlanSession",
    "PlanShortfall",
    "PlanStatus",
    "ProtectedSession",
    "RosterStatus",
    "SessionOrigin",
    "Absence",
    "AbsenceKind",
    "ApiToken",
    "AuditEvent",
    "AvoidPreference",
    "Borough",
    "CommitmentUnit",
    "Department",
    "Half",
    "LeadershipRole",
    "OrgKind",
    "Organisation",
    "PatternSession",
    "Period",
    "Person",
    "Profession",
    "RateCardEntry",
    "RoleAssignment",
    "RoleLevel",
    "SessionKind",
    "Team",
    "TeamKind",
    "LoginFailure",
    "User",
    "UserRole",
    "WhatIfRun",
    "WhatIfStatus",
    "team_member",
]

