"""Calendar feeds: iCalendar subscriptions of published protected time."""
from .service import mark_stale

__all__ = ["mark_stale"]
