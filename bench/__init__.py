"""Reproducible benchmarks for the solver: an instance generator and timed runs that print
figures against the greedy baseline. Not part of the installed package."""
