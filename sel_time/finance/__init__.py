"""Finance: backfill costs, the rate card, what-if projections; their API routes and pages."""
