"""Leaders keep their protected time: move, swap, give back, miss or move a team session;
approval by each organisation's rule or a rota manager; invitations and notifications by
e-mail. Routes: ``api`` (JSON) and ``pages`` (web), registered by the API and web packages."""
