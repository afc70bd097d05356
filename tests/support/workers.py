"""Real ``sel-time worker`` processes for the queue's tests, and the queue URLs they share:
a SQLite file (the embedded default), or Redis db 1-3 (``SEL_TIME_TEST_REDIS``; the PostgreSQL
run of ``.ci/run`` sets it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import process_env

REDIS_URL = os.environ.get("SEL_TIME_TEST_REDIS", "")
SEL_TIME = shutil.which("sel-time", path=str(Path(sys.executable).parent)) or "sel-time"


def redis_available() -> bool:
    if not REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@contextmanager
def workers(database_url: str, queue_url: str, *, count: int = 1, concurrency: int = 1,
            log_dir: Path, **env: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes on the given database and queue; stopped (then killed) at
    the end of the block."""
    procs = []
    logs = []
    base = process_env(**{"DATABASE_URL": database_url, "SEL_TIME_QUEUE_URL": queue_url,
                          "SEL_TIME_SOLVER_WORKERS": "1", **env})
    try:
        for i in range(count):
            out = open(log_dir / f"worker-{i}.log", "wb")  # noqa: SIM115 (closed at the end)
            logs.append(out)
            procs.append(subprocess.Popen(
                [SEL_TIME, "worker", "--concurrency", str(concurrency)],
                env=base, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for out in logs:
            out.close()


def worker_log(log_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("worker-*.log")))


def wait_for(predicate, timeout: float, every: float = 0.2):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something true, or return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = predicate()
    return value
