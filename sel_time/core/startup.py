"""Which settings the app starts with, and the checks it makes before it serves anything.

Production is the default for every entry point (``wsgi:app`` under gunicorn, every ``sel-time``
command); development settings are used only when asked for (``SEL_TIME_ENV=development``, which
``make demo`` and ``sel-time run`` set), and they say so. Production refuses to start without a
``SECRET_KEY`` of at least 32 random bytes: everything signed (session cookies, CSRF tokens,
one-click links) is only as private as that key.
"""

from __future__ import annotations

import logging
import os
import secrets
import string
from pathlib import Path

from flask import Flask

ENV_VARIABLE = "SEL_TIME_ENV"
MIN_KEY_BITS = 256  # 32 random bytes
_HEX = set(string.hexdigits)
_BASE64 = set(string.ascii_letters + string.digits + "+/=-_")
# Keys that have been public at some time (earlier defaults, documentation placeholders).
_KNOWN_KEYS = {"dev-only-not-secret", "testing", "changeme", "change-me", "secret", "..."}
HOW_TO_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The settings are unsafe or wrong; the message says which variable and how to mend it."""


def config_class() -> type:
    """The settings class named by ``SEL_TIME_ENV`` (default ``production``)."""
    from config import DevelopmentConfig, ProductionConfig

    name = os.environ.get(ENV_VARIABLE, "production").strip().lower() or "production"
    choices: dict[str, type] = {"production": ProductionConfig, "development": DevelopmentConfig}
    if name not in choices:
        raise ConfigurationError(
            f"{ENV_VARIABLE} is {name!r}; it must be 'production' (the default) or 'development'."
        )
    return choices[name]


def key_strength_bits(key: str | bytes) -> float:
    """A cautious estimate of the randomness in a key, from its length and alphabet.

    A key of hex digits carries 4 bits a character, of base64 6; anything else is counted as
    text (about 6.5 bits). A key of few distinct characters ("aaaa…", "abab…") counts as weak.
    """
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if not text or text.lower() in _KNOWN_KEYS:
        return 0.0
    chars = set(text)
    if len(chars) < 8:
        return 0.0
    per_char = 4.0 if chars <= _HEX else 6.0 if chars <= _BASE64 else 6.5
    return per_char * len(text)


def check_secret_key(app: Flask) -> None:
    """Refuse to start in production without a strong ``SECRET_KEY``; in development, make and
    keep a random one under ``instance/`` if none is given."""
    env = app.config.get("SEL_TIME_ENV", "production")
    key = app.config.get("SECRET_KEY") or ""
    if env == "development" and not key:
        app.config["SECRET_KEY"] = _instance_key(Path(app.instance_path))
        return
    if env != "production":
        if not key:
            raise ConfigurationError("SECRET_KEY is empty.")
        return
    if not key:
        raise ConfigurationError(
            "SECRET_KEY is not set. Production settings are the default; set SECRET_KEY in the "
            f"environment to at least 32 random bytes, for example the output of {HOW_TO_MAKE_ONE}"
            f" (or set {ENV_VARIABLE}=development for a local trial)."
        )
    if key_strength_bits(key) < MIN_KEY_BITS:
        raise ConfigurationError(
            "SECRET_KEY is too short or not random enough: it must hold at least 32 random bytes "
            f"(64 hex digits or 43 base64 characters), for example the output of {HOW_TO_MAKE_ONE}."
        )


def _instance_key(instance: Path) -> str:
    """A development key made once per checkout and kept in ``instance/secret_key`` (mode 0600),
    so that a restart keeps everyone signed in and nobody else knows it."""
    path = instance / "secret_key"
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if key_strength_bits(existing) >= MIN_KEY_BITS:
        return existing
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def announce(app: Flask) -> None:
    """Development settings say so on start."""
    if app.config.get("SEL_TIME_ENV") == "development":
        log.warning(
            "sel-time is using DEVELOPMENT settings (plain-http cookies, a key kept in "
            "%s); for production run gunicorn -c gunicorn.conf.py wsgi:app with SECRET_KEY "
            "set",
            os.path.join(app.instance_path, "secret_key"),
        )


def describe(error: BaseException) -> str:
    """The one-line message printed when the app refuses to start."""
    return f"sel-time cannot start: {error}"


MAX_TRUSTED_PROXIES = 10


def trusted_proxies(value: object) -> int:
    """``SEL_TIME_TRUSTED_PROXIES`` as a number of proxies, or a start-up error in words."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_TRUSTED_PROXIES:
        raise ConfigurationError(
            f"SEL_TIME_TRUSTED_PROXIES must be a whole number from 0 to {MAX_TRUSTED_PROXIES}"
            f" (the reverse proxies in front of sel-time whose X-Forwarded-For is believed),"
            f" not {text!r}"
        )
    return int(text)


def start_feed_miss_limiter(app: Flask) -> None:
    """The feed-miss throttle, made at start-up so that a bad storage URI stops the start."""
    from limits.errors import ConfigurationError as StorageError

    from ..feeds.misses import limiter_for

    try:
        limiter_for(app)
    except StorageError as exc:
        raise ConfigurationError(
            "SEL_TIME_RATELIMIT_STORAGE must be a storage the limits library knows, such as"
            f" memory:// or redis://127.0.0.1:6379, not {app.config.get('RATELIMIT_STORAGE_URI')!r}"
            f" ({exc})"
        ) from exc
