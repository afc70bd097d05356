"""Spreadsheet upload endpoints (filled in by the import work)."""
