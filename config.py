"""Configuration classes, read from the environment.

SQLite under ``instance/`` is the embedded default so that a newcomer needs nothing else;
production points ``DATABASE_URL`` at PostgreSQL (``postgresql+psycopg://...``).
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres://"):  # the Heroku-style scheme SQLAlchemy 2 refuses
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url or f"sqlite:///{BASE_DIR / 'instance' / 'sel_time.sqlite'}"


class Config:
    """Defaults for every environment; each can be overridden by an environment variable."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    TIMEZONE = os.environ.get("SEL_TIME_TIMEZONE", "Europe/London")
    # Half-day session templates: CODE=HH:MM-HH:MM, comma separated.
    SESSION_TEMPLATES = os.environ.get("SEL_TIME_SESSIONS", "AM=09:00-13:00,PM=13:00-17:00")
    # ISO weekdays (1 = Monday) that are working days; England bank holidays are removed.
    WORKING_DAYS = os.environ.get("SEL_TIME_WORKING_DAYS", "1,2,3,4,5")
    BANK_HOLIDAY_SUBDIV = os.environ.get("SEL_TIME_BANK_HOLIDAYS", "ENG")
    API_PAGE_SIZE = int(os.environ.get("SEL_TIME_PAGE_SIZE", "50"))
    # Days an API token works for; a token may be made for fewer, never for more.
    API_TOKEN_DAYS = int(os.environ.get("SEL_TIME_TOKEN_DAYS", "90"))
    # Survey results: no published cell of fewer respondents than this (NHS Staff Survey: 11;
    # never below 5, refused at use).
    SURVEY_MIN_GROUP = int(os.environ.get("SEL_TIME_SURVEY_MIN_GROUP", "11"))
    MAX_CONTENT_LENGTH = int(os.environ.get("SEL_TIME_MAX_UPLOAD", str(5 * 1024 * 1024)))
    IMPORT_MAX_ROWS = int(os.environ.get("SEL_TIME_IMPORT_MAX_ROWS", "20000"))
    # An import refuses a cell longer than this, a workbook unpacking to more bytes than this,
    # and stops (writing nothing) after this many seconds: 20,000 rows take about 62 s.
    IMPORT_MAX_CELL_CHARS = int(os.environ.get("SEL_TIME_IMPORT_MAX_CELL_CHARS", "1000"))
    IMPORT_MAX_UNPACKED = int(os.environ.get("SEL_TIME_IMPORT_MAX_UNPACKED",
                                             str(50 * 1024 * 1024)))
    IMPORT_SECONDS = float(os.environ.get("SEL_TIME_IMPORT_SECONDS", "120"))
    SOLVER_TIME_LIMIT = float(os.environ.get("SEL_TIME_SOLVER_TIME_LIMIT", "60"))
    SOLVER_WORKERS = int(os.environ.get("SEL_TIME_SOLVER_WORKERS", "2"))
    # Worker processes a plan's independent parts are solved in side by side (each CP-SAT
    # then gets SOLVER_WORKERS / SOLVER_PROCESSES threads). 1 solves them in turn, which is
    # as fast on two cores for an organisation; London-sized plans (6,000 people) proved
    # optimal in 124 s with 2 (bench/README.md, "London").
    SOLVER_PROCESSES = max(1, int(os.environ.get("SEL_TIME_SOLVER_PROCESSES", "1")))
    # GBP a re-solve pays for each published session it drops (the problem's weights.churn).
    # The solver-io default is 50; sel-time prices a moved session at 200, about a half-day of
    # band 7-8a backfill (41-47 GBP/h x 4 h), because moving it means re-arranging that cover
    # and the leader's diary. bench/resolve_bench.py measures the difference.
    CHURN_WEIGHT = float(os.environ.get("SEL_TIME_CHURN_WEIGHT", "200"))
    # GBP for each session per thousand entitled that the worst-served group (a profession
    # or an organisation) is short (the problem's weights.fairness; 0 turns it off); with it
    # on, the solver plans the whole problem as one part up to 150,000 candidate literals
    # (about 1,500 people), and above that in parts evened out across groups (London's 6,000
    # people proved optimal with it in 138 s on two processes). bench/fairness_bench.py (bench/
    # README.md) measured 50, 200 and 1000: total shortfall never rose; on the demo and the
    # bench's S and M the plan is unchanged (their shortfall is all for want of availability);
    # where slots are scarce 200 narrowed the professions' spread (S, one away per department:
    # 65.6 to 42.2 points for 2.4 % more backfill; demo likewise, profession groups only:
    # 5.44 to 5.22 for 0.2 %) where 50 did not always; M's solve took 26 s instead of 32 s.
    FAIRNESS_WEIGHT = float(os.environ.get("SEL_TIME_FAIRNESS_WEIGHT", "200"))
    # Reverse proxies in front of sel-time whose X-Forwarded-For/-Proto/-Host headers are
    # believed (werkzeug's ProxyFix). 0: none, the headers are ignored and the peer is the client.
    TRUSTED_PROXIES = os.environ.get("SEL_TIME_TRUSTED_PROXIES", "0")
    # Where the feed-miss throttle counts (a `limits` storage URI): memory:// counts in each
    # process; redis://127.0.0.1:6379 shares one count between every worker and machine.
    RATELIMIT_STORAGE_URI = os.environ.get("SEL_TIME_RATELIMIT_STORAGE", "memory://")
    # Nightly refresh (sel-time scheduler / sel-time refresh)
    REFRESH_WEEKS_AHEAD = int(os.environ.get("SEL_TIME_WEEKS_AHEAD", "12"))
    REFRESH_FROZEN_DAYS = int(os.environ.get("SEL_TIME_FROZEN_DAYS", "14"))
    REFRESH_TIME_LIMIT = float(os.environ.get("SEL_TIME_REFRESH_TIME_LIMIT", "300"))
    REFRESH_MISFIRE_GRACE = int(os.environ.get("SEL_TIME_MISFIRE_GRACE", str(6 * 3600)))
    # Logs: "plain" text lines (the default, make demo) or "json", one object a line with the
    # request id (production: SEL_TIME_LOG_FORMAT=json).
    LOG_FORMAT = os.environ.get("SEL_TIME_LOG_FORMAT", "plain")
    # The bearer token Prometheus sends to scrape /metrics; unset, /metrics answers 404.
    METRICS_TOKEN = os.environ.get("SEL_TIME_METRICS_TOKEN", "")
    # Retention (days; 0 keeps for ever), enforced by sel-time retention apply and nightly.
    # The audit trail: 6 years (NHS records management code for corporate and HR-adjacent
    # records); failed sign-ins: 30 days (the throttle needs 15 minutes); the e-mail outbox:
    # 90 days; survey invitations: 365 days.
    RETAIN_AUDIT_DAYS = int(os.environ.get("SEL_TIME_RETAIN_AUDIT_DAYS", str(6 * 365)))
    RETAIN_FAILED_SIGN_INS_DAYS = int(os.environ.get("SEL_TIME_RETAIN_FAILED_SIGN_INS_DAYS", "30"))
    RETAIN_OUTBOX_DAYS = int(os.environ.get("SEL_TIME_RETAIN_OUTBOX_DAYS", "90"))
    RETAIN_SURVEY_INVITATIONS_DAYS = int(
        os.environ.get("SEL_TIME_RETAIN_SURVEY_INVITATIONS_DAYS", "365"))
    # Where people reach sel-time (calendar links, one-click links). Unset: the host each request
    # came to (sel_time.feeds.service.public_base), or the development server's outside a request.
    PUBLIC_URL = os.environ.get("SEL_TIME_PUBLIC_URL", "")
    # Single sign-on with the organisation's account (OpenID Connect; README "Single sign-on").
    # The first four go together: set all of them or none (a half-made set stops the start).
    SSO_ISSUER = os.environ.get("SEL_TIME_SSO_ISSUER", "")
    SSO_CLIENT_ID = os.environ.get("SEL_TIME_SSO_CLIENT_ID", "")
    SSO_CLIENT_SECRET = os.environ.get("SEL_TIME_SSO_CLIENT_SECRET", "")
    SSO_ALLOWED_DOMAINS = os.environ.get("SEL_TIME_SSO_ALLOWED_DOMAINS", "")
    SSO_SCOPES = os.environ.get("SEL_TIME_SSO_SCOPES", "openid email profile")
    # The claim that says the e-mail address is verified (Entra ID: xms_edov).
    SSO_EMAIL_VERIFIED_CLAIM = os.environ.get("SEL_TIME_SSO_EMAIL_VERIFIED_CLAIM",
                                              "email_verified")
    # Optional: roles from a groups claim, as <group>=<role>,<group>=<role>.
    SSO_GROUPS_CLAIM = os.environ.get("SEL_TIME_SSO_GROUPS_CLAIM", "")
    SSO_GROUP_ROLES = os.environ.get("SEL_TIME_SSO_GROUP_ROLES", "")
    SSO_HELP_CONTACT = os.environ.get("SEL_TIME_SSO_HELP_CONTACT", "")
    # "off": only single sign-on, except the break-glass administrator's password.
    LOCAL_PASSWORDS = os.environ.get("SEL_TIME_LOCAL_PASSWORDS", "on")
    BREAK_GLASS_ADMIN = os.environ.get("SEL_TIME_BREAK_GLASS_ADMIN", "")
    # The task queue (Huey) that runs every solve, nightly part, feed render and e-mail in
    # `sel-time worker` processes: empty for a SQLite file under instance/ (one machine, nothing
    # to install), redis://host:6379/0 in production (workers on any number of machines).
    QUEUE_URL = os.environ.get("SEL_TIME_QUEUE_URL", "")
    # A transaction that queued e-mail asks a worker to deliver it once it commits.
    MAIL_DELIVER_ON_COMMIT = True
    QUEUE_IMMEDIATE = False  # tests: run each task in-process right after its commit
    # A run still "running" this many seconds past its time limit lost its worker (killed,
    # machine gone): it is run once more from the start, then failed with that reason.
    QUEUE_LOST_AFTER = float(os.environ.get("SEL_TIME_QUEUE_LOST_AFTER", "120"))
    # What-ifs queued or running at once: per user, and in all.
    WHATIF_CAP_PER_USER = int(os.environ.get("SEL_TIME_WHATIF_CAP_PER_USER", "2"))
    WHATIF_CAP_TOTAL = int(os.environ.get("SEL_TIME_WHATIF_CAP_TOTAL", "8"))
    # E-mail (sel_time/mail): an SMTP relay, as one URL (smtp://user:pass@relay:587?starttls=1,
    # smtps://... for TLS from the first byte) or field by field; the URL wins. With neither,
    # SEL_TIME_MAIL_DIR (relative to instance/) gets each message as an .eml file; with none of
    # them, messages stay queued and `sel-time mail send` says so.
    SMTP_URL = os.environ.get("SEL_TIME_SMTP_URL", "")
    SMTP_HOST = os.environ.get("SEL_TIME_SMTP_HOST", "")
    SMTP_PORT = os.environ.get("SEL_TIME_SMTP_PORT", "25")
    SMTP_USERNAME = os.environ.get("SEL_TIME_SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SEL_TIME_SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SEL_TIME_SMTP_STARTTLS", "0")
    SMTP_FROM = os.environ.get("SEL_TIME_SMTP_FROM", "sel-time <no-reply@sel-time.invalid>")
    MAIL_DIR = os.environ.get("SEL_TIME_MAIL_DIR", "")
    # Attempts before a message that keeps failing for a temporary reason is marked failed; the
    # first retry waits MAIL_RETRY_SECONDS, each later one twice as long (at most an hour).
    MAIL_MAX_ATTEMPTS = int(os.environ.get("SEL_TIME_MAIL_MAX_ATTEMPTS", "10"))
    MAIL_RETRY_SECONDS = float(os.environ.get("SEL_TIME_MAIL_RETRY_SECONDS", "60"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Production serves over https (behind a proxy that ends TLS): cookies never travel in the
    # clear. SEL_TIME_SECURE_COOKIES=0 turns this off only for a plain-http trial behind a VPN.
    SESSION_COOKIE_SECURE = os.environ.get("SEL_TIME_SECURE_COOKIES", "1") != "0"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    TESTING = False
    # Which settings these are: "production" (the default for wsgi:app, gunicorn and every
    # command), "development" (make demo, sel-time run) or "testing".
    SEL_TIME_ENV = "production"


ProductionConfig = Config


class DevelopmentConfig(Config):
    """Local use (``make demo``, ``sel-time run``): plain-http cookies, and a random key kept in
    ``instance/secret_key`` if ``SECRET_KEY`` is not given (never a key anyone else knows)."""

    SEL_TIME_ENV = "development"
    # make demo needs no mail server: messages are written to instance/outbox/ as .eml files.
    MAIL_DIR = os.environ.get("SEL_TIME_MAIL_DIR", "outbox")
    SESSION_COOKIE_SECURE = os.environ.get("SEL_TIME_SECURE_COOKIES", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestingConfig(Config):
    """Tests: in-memory SQLite unless ``DATABASE_URL`` names another database."""

    TESTING = True
    SEL_TIME_ENV = "testing"
    SECRET_KEY = "testing"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") and _database_url() or "sqlite://"
    WTF_CSRF_ENABLED = True
    SOLVER_TIME_LIMIT = 10.0
    # Tasks run in the test's own process right after the commit that enqueued them; tests of
    # real workers pass QUEUE_URL (a SQLite file, or Redis db 1-3) and QUEUE_IMMEDIATE=False.
    # The mail tests send the outbox themselves (tests/mail); tests/task_queue checks that a
    # commit asks a worker to deliver.
    MAIL_DELIVER_ON_COMMIT = False
    # No worker keeps finance's figures after each write (a test that drains the queue itself
    # sees only the tasks it is about); tests of the kept figures turn it on.
    FINANCE_SNAPSHOTS = False
    QUEUE_IMMEDIATE = True
    # Tests travel in time (to 2027 and beyond) with tokens made today; the expiry's own tests
    # (tests/test_api_tokens.py) set the production default of 90 days.
    API_TOKEN_DAYS = 3650
