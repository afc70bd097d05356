"""Helpers shared by the test packages: real processes, databases and worlds."""
