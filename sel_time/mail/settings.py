"""Where mail goes: an SMTP relay named by the environment, a directory of ``.eml`` files
(the demo, or an operator who wants to look first), or nowhere yet (messages stay queued).

``SEL_TIME_SMTP_URL`` (``smtp://user:pass@relay:587?starttls=1``, or ``smtps://`` for TLS from
the first byte) or, field by field, ``SEL_TIME_SMTP_HOST``, ``_PORT``, ``_USERNAME``,
``_PASSWORD``, ``_STARTTLS`` (1/0); ``SEL_TIME_SMTP_FROM`` is the sender. ``SEL_TIME_MAIL_DIR``
writes messages there instead of sending them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..core.errors import SelTimeError

DEFAULT_FROM = "sel-time <no-reply@sel-time.invalid>"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class MailConfigurationError(SelTimeError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], 500, "Mail is misconfigured")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False  # smtps: TLS from the first byte (port 465)
    timeout: float = 30.0

    def describe(self) -> str:
        """The relay, as the operator may be told it (never the password)."""
        user = f"{self.username}@" if self.username else ""
        tls = " (STARTTLS)" if self.starttls else " (TLS)" if self.ssl else ""
        return f"smtp://{user}{self.host}:{self.port}{tls}"


@dataclass(frozen=True)
class MailSettings:
    sender: str
    smtp: SmtpSettings | None = None
    directory: Path | None = None
    max_attempts: int = 10
    retry_seconds: float = 60.0  # the first retry; each later one waits twice as long
    retry_max_seconds: float = 3600.0
    lease_seconds: float = 300.0  # how long a sender holds a message it is sending

    @property
    def configured(self) -> bool:
        return self.smtp is not None or self.directory is not None

    def describe(self) -> str:
        if self.smtp is not None:
            return self.smtp.describe()
        if self.directory is not None:
            return f"the directory {self.directory}"
        return "nowhere (no SMTP relay is configured)"


def _flag(value: Any, name: str) -> bool:
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise MailConfigurationError(f"{name} must be 1 or 0, not {value!r}")


def _port(value: Any, name: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise MailConfigurationError(f"{name} must be a port number, not {value!r}") from None
    if not 0 < port < 65536:
        raise MailConfigurationError(f"{name} must be between 1 and 65535, not {port}")
    return port


def parse_smtp_url(url: str) -> SmtpSettings:
    """``smtp://user:pass@relay:587?starttls=1`` → :class:`SmtpSettings`."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise MailConfigurationError(
            "SEL_TIME_SMTP_URL must look like smtp://user:password@relay.example:587?starttls=1"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise MailConfigurationError(f"SEL_TIME_SMTP_URL has unknown options: {', '.join(unknown)}")
    ssl = parts.scheme == "smtps"
    try:
        url_port = parts.port
    except ValueError:
        raise MailConfigurationError("SEL_TIME_SMTP_URL has a port that is not a number") from None
    return SmtpSettings(
        host=parts.hostname,
        port=url_port or (465 if ssl else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=_flag(query.get("starttls", "0"), "SEL_TIME_SMTP_URL starttls"),
        ssl=ssl,
        timeout=float(query.get("timeout", "30")),
    )


def mail_settings(config: Mapping[str, Any], instance_path: str | None = None) -> MailSettings:
    """The app's mail settings (``app.config``): the URL wins over the separate fields."""
    smtp: SmtpSettings | None = None
    if config.get("SMTP_URL"):
        smtp = parse_smtp_url(str(config["SMTP_URL"]))
    elif config.get("SMTP_HOST"):
        smtp = SmtpSettings(
            host=str(config["SMTP_HOST"]),
            port=_port(config.get("SMTP_PORT") or 25, "SEL_TIME_SMTP_PORT"),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=_flag(config.get("SMTP_STARTTLS", "0"), "SEL_TIME_SMTP_STARTTLS"),
            timeout=float(config.get("SMTP_TIMEOUT", 30)),
        )
    directory: Path | None = None
    if smtp is None and config.get("MAIL_DIR"):
        directory = Path(str(config["MAIL_DIR"]))
        if not directory.is_absolute() and instance_path:
            directory = Path(instance_path) / directory
    return MailSettings(
        sender=str(config.get("SMTP_FROM") or DEFAULT_FROM),
        smtp=smtp,
        directory=directory,
        max_attempts=int(config.get("MAIL_MAX_ATTEMPTS", 10)),
        retry_seconds=float(config.get("MAIL_RETRY_SECONDS", 60)),
        retry_max_seconds=float(config.get("MAIL_RETRY_MAX_SECONDS", 3600)),
        lease_seconds=float(config.get("MAIL_LEASE_SECONDS", 300)),
    )
