"""Independent parts of one problem solved side by side in worker processes.

Each process is started fresh (``spawn``: safe from a threaded parent such as a task-queue
worker), is given the parsed problem once, and then runs one part at a time. The caller's
stop event and a deadline are watched from here: on either, the processes are terminated
at once and the parts not yet back are simply missing from the answer.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from solver.model import Problem

__all__ = ["peak_mb", "run"]

log = logging.getLogger(__name__)

R = TypeVar("R")

_problem: Problem | None = None  # the problem this worker process holds


def _hold(problem: Problem) -> None:
    global _problem
    _problem = problem


def _call(fn: Callable[..., R], args: tuple[Any, ...]) -> R:
    assert _problem is not None, "the worker process was not given its problem"
    return fn(_problem, *args)


def peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(
    problem: Problem,
    fn: Callable[..., R],
    jobs: Sequence[tuple[Any, ...]],
    processes: int,
    deadline: float,
    stop: threading.Event | None = None,
    done: Callable[[int], None] | None = None,
) -> dict[int, R]:
    """``fn(problem, *job)`` for every job, in `processes` worker processes, in the order
    given; the answers by job index. `fn` must be a module-level function (it is sent to
    the processes by name). A job that raised is logged and left out; so are the jobs not
    back by `deadline` (``time.monotonic()``) or when `stop` is set."""
    results: dict[int, R] = {}
    if not jobs:
        return results
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes, initializer=_hold, initargs=(problem,)) as workers:
        pending = {i: workers.apply_async(_call, (fn, job)) for i, job in enumerate(jobs)}
        while pending:
            if stop is not None and stop.is_set():
                log.info("stopped: %d of %d parts not back", len(pending), len(jobs))
                break
            if time.monotonic() > deadline:
                log.warning("%d of %d parts not back by the deadline", len(pending), len(jobs))
                break
            for i in [i for i, r in pending.items() if r.ready()]:
                answer = pending.pop(i)
                try:
                    results[i] = answer.get()
                except Exception:  # a bug in a part: the part keeps its hint
                    log.exception("part %d failed in its worker process", i + 1)
                if done is not None:
                    done(i)
            time.sleep(0.05)
        # Leaving the block terminates the processes, finished or not.
    return results
