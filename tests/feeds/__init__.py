"""Tests of the calendar feeds."""
