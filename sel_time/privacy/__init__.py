"""Personal data: a person's own export (subject access), an administrator's erasure of a leaver,
and retention periods enforced by :func:`apply_retention` (``sel-time retention apply``)."""

from __future__ import annotations

from .erasure import ErasureReport, erase_person
from .retention import RULES, RetentionRule, apply_retention
from .subject import SubjectData, subject_data

__all__ = ["RULES", "ErasureReport", "RetentionRule", "SubjectData", "apply_retention",
           "erase_person", "subject_data"]
