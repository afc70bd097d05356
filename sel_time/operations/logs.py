"""Log lines: plain text by default (``make demo``), one JSON object per line with
``SEL_TIME_LOG_FORMAT=json`` (production). Every line carries the request id of the request or
job it was written for, and secrets never reach a line in either format.

python-json-logger is a ``logging.Formatter``: gunicorn's, werkzeug's, APScheduler's and
sel-time's own loggers all go through the standard library unchanged, with the filters already on
them (the feed-token filter in ``feeds/routes.py``), which structlog would have had to wrap.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from .context import current_request_id

REDACTED = "[redacted]"
# Each secret that might be written into a log line: feed and one-click paths, bearer and API
# tokens, passwords in forms, query strings or JSON, and session or remember-me cookies.
SECRETS = [
    (re.compile(r"/(feeds|record)/(?!<token>)[^\s\"'?/]+"), r"/\1/" + REDACTED),
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"), r"\1 " + REDACTED),
    (re.compile(r"\bst_[A-Za-z0-9_-]{8,}"), "st_" + REDACTED),
    (re.compile(r"(?i)([\"']?(?:password|passwd|secret|client_secret|token|csrf_token)[\"']?"
                r"\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(session|remember_token)=[^\s;,\"']+"), r"\1=" + REDACTED),
]


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[redacted]``."""
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v) for v in value)
    return value


class RequestId(logging.Filter):
    """Give every record the id of the request or job it belongs to (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


class RedactSecrets(logging.Filter):
    """Redact secrets in a record's message and arguments, whatever the format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            for key, value in record.args.items():
                record.args[key] = _redact_value(value)
        elif record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_redact_value(a) for a in args)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, any
    ``extra`` fields, and the traceback as ``exc_info``; every string redacted once more."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger",
                                            "asctime": "time"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                         *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        from datetime import datetime, timezone

        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(
            timespec="milliseconds")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {k: _redact_value(v) for k, v in log_data.items()}


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(log_format: str, app_logger: logging.Logger | None = None) -> None:
    """Give the root logger's handlers (making one if there is none) the request id and the
    redaction, and in ``json`` format the JSON formatter. Gunicorn's own loggers are set in
    ``gunicorn.conf.py`` (``logconfig_dict``). Flask's own handler on the app's logger (which
    ``sel_time.*`` records reach before the root's) gets the same filters; in ``json`` format it
    is removed, so that every line is written once, as JSON, by the root's handlers."""
    from flask.logging import default_handler

    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format=PLAIN_FORMAT)
    handlers = list(root.handlers)
    if app_logger is not None:
        if log_format == "json":
            app_logger.removeHandler(default_handler)
        handlers += app_logger.handlers
    for name in ("gunicorn.error", "gunicorn.access"):
        handlers += logging.getLogger(name).handlers
    for handler in handlers:
        if not any(isinstance(f, RequestId) for f in handler.filters):
            handler.addFilter(RequestId())
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
        if log_format == "json" and not isinstance(handler.formatter, JsonFormatter):
            if type(handler).__name__ != "LogCaptureHandler":  # pytest's caplog keeps its own
                handler.setFormatter(JsonFormatter())
