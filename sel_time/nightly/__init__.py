"""The nightly refresh: its run records (API)."""
