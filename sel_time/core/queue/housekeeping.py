"""The queue's own tasks: ``ping`` (a worker answers: used by ``sel-time worker --check`` and
the tests of real workers)."""

from __future__ import annotations

import json
import os
import socket

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
