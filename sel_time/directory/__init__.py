"""The directory: organisations, departments, people, roles, assignments, teams, leave and
users; their records service, API routes and management pages."""
