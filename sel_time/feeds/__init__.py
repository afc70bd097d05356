"""Calendar feeds: iCalendar subscriptions of published protected time."""
from . import tokens  # noqa: F401  (connects the receivers of the directory's user signals)
from .tasks import mark_stale

__all__ = ["mark_stale"]
