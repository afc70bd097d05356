"""Plans: building the solver's problem, planning runs, hand edits, publishing and fairness."""
