"""Plans, their sessions and shortfalls as JSON-ready dicts (API, CLI and pages)."""

from __future__ import annotations

from typing import Any

from ..core.slots import slot_label
from ..models import (
    Plan,
    PlanSession,
    PlanShortfall,
)


def plan_summary(plan: Plan) -> dict[str, Any]:
    totals = (plan.solution or {}).get("totals", {})
    return {
        "id": plan.id,
        "scope": plan.scope,
        "start": plan.start_date.isoformat(),
        "weeks": plan.weeks,
        "end": plan.end_date.isoformat(),
        "status": plan.status.value,
        "progress": round(plan.progress, 3),
        "progress_message": plan.progress_message,
        "solver_status": plan.solver_status,
        "objective": plan.objective,
        "bound": plan.bound,
        "wall_seconds": plan.wall_seconds,
        "time_limit": plan.time_limit,
        "sessions": sum(1 for s in plan.sessions if s.person_id),
        "team_sessions": sum(1 for s in plan.sessions if s.team_id),
        "shortfalls": len(plan.shortfalls),
        "shortfall_sessions": sum(s.required - s.scheduled for s in plan.shortfalls),
        "backfill_cost": round(sum(s.cost_pence for s in plan.sessions) / 100, 2),
        "edits": plan.edits,
        "conflicts": plan.conflicts or [],
        "warnings": plan.warnings or [],
        "error": plan.error,
        "requested_by": plan.requested_by,
        "created_at": plan.created_at.isoformat(),
        "finished_at": plan.finished_at.isoformat() if plan.finished_at else None,
        "published_at": plan.published_at.isoformat() if plan.published_at else None,
        "solver_totals": totals,
    }


def session_dict(s: PlanSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": "individual" if s.person_id else "team",
        "person_id": s.person_id,
        "person": s.person.name if s.person else None,
        "assignment_id": s.assignment_id,
        "role": s.assignment.role.title if s.assignment else None,
        "team_id": s.team_id,
        "team": s.team.name if s.team else None,
        "slot": s.slot,
        "label": slot_label(s.slot),
        "start": s.start_at.isoformat(),
        "end": s.end_at.isoformat(),
        "cost": round(s.cost_pence / 100, 2),
        "pinned": s.pinned,
        "origin": s.origin.value,
        "attendees": [a.person_id for a in s.attendees if a.attending],
        "absent": [a.person_id for a in s.attendees if not a.attending],
    }


def shortfall_dict(s: PlanShortfall) -> dict[str, Any]:
    return {
        "assignment_id": s.assignment_id,
        "team_id": s.team_id,
        "person": s.assignment.person.name if s.assignment else None,
        "role": s.assignment.role.title if s.assignment else None,
        "team": s.team.name if s.team else None,
        "from": s.window_from.isoformat(),
        "to": s.window_to.isoformat(),
        "required": s.required,
        "scheduled": s.scheduled,
        "reason": s.reason,
        "explanation": s.explanation,
    }
