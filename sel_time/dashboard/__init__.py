"""The rota manager's dashboard: the quarter at a glance (met, short, at risk), the last
nightly refresh, draft plans and warnings."""
