"""Shared infrastructure every feature uses: database, the one transaction boundary, errors,
clock, sign-in and API tokens, audit, background-job leases, start-up checks and health."""
