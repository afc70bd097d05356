"""Accounts: signing in and out, the sign-in throttle, and personal API tokens (pages and API)."""
