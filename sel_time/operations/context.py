"""The request id: taken from a sane ``X-Request-ID`` or made afresh, kept in a context variable
for every log line of the request, and returned in the response's ``X-Request-ID``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
# What a proxy or a client may hand us: short, and only characters that cannot forge a log line.
SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{8,128}$")

_request_id: ContextVar[str | None] = ContextVar("sel_time_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The caller's request id if it is sane, else a new one."""
    if header and SANE.match(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request (or job) this code runs for, if any."""
    return _request_id.get()


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Run the block with ``request_id`` as the current one: a job started by a request passes
    the id it recorded (``plan.request_id``) so that its log lines carry it too."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
