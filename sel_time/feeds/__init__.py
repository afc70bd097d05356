"""Calendar feeds: iCalendar subscriptions of published protected time."""
