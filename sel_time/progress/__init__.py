"""Tracking progress: anonymous baseline and pulse surveys, ideas, training programmes and a
report for the board."""
