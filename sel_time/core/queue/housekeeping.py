"""The queue's own tasks: ``ping`` (a worker answers: used by ``sel-time worker --check`` and
the tests of real workers); and the register of the night's extra housekeeping parts, which a
feature adds without the nightly package importing it (:func:`nightly_part`)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable

from ..clock import now_utc
from .engine import URGENT, queue, task

PING_PREFIX = "sel-time-ping:"


@task("queue.ping", priority=URGENT)
def ping(token: str) -> None:
    """Leave ``token``'s answer in the queue's store: which worker took it, and when."""
    queue.huey().storage.put_data(PING_PREFIX + token, json.dumps({
        "worker": f"{socket.gethostname()}:{os.getpid()}", "at": now_utc().isoformat(),
    }).encode())


def ping_answer(token: str) -> dict[str, str] | None:
    from huey.constants import EmptyData

    data = queue.huey().storage.peek_data(PING_PREFIX + token)
    if data is EmptyData:
        return None
    answer: dict[str, str] = json.loads(data)
    return answer


# Housekeeping parts that features register (finance keeps its figures for the new day): the
# night's housekeeping task runs each after its own, in a transaction of its own. Each flushes
# and returns a line for the log.
NIGHTLY_PARTS: list[tuple[str, Callable[[], str]]] = []


def nightly_part(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register ``fn`` as a part of the night's housekeeping, under ``name``."""
    def register(fn: Callable[[], str]) -> Callable[[], str]:
        NIGHTLY_PARTS.append((name, fn))
        return fn
    return register
