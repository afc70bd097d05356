"""Delivery: was the protected time taken? Recording it, and the leader's own pages."""
