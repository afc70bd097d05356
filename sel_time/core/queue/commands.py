"""``sel-time worker``: run a queue worker (registered on the ``sel-time`` command group)."""

from __future__ import annotations

import sys
import time
import uuid

import click
from flask import current_app
from flask.cli import with_appcontext

from .engine import queue
from .housekeeping import ping, ping_answer


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="tasks run at once by this worker (threads; CP-SAT solves outside the "
                   "GIL; for more CPUs run more workers)")
@click.option("--check", is_flag=True,
              help="do not work: ask the running workers to answer, and say whether one did")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="seconds --check waits for an answer")
@with_appcontext
def worker_command(concurrency: int, check: bool, timeout: float) -> None:
    """Run a worker: take solves, nightly parts, feed renders and e-mail off the queue. Run
    any number, on any number of machines sharing the database and the queue (Redis)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if check:
        token = uuid.uuid4().hex
        ping.enqueue_now(token)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = ping_answer(token)
            if answer:
                click.echo(f"worker {answer['worker']} answered at {answer['at']}")
                return
            time.sleep(0.2)
        click.echo(f"Error: no worker answered within {timeout:g} s", err=True)
        sys.exit(1)
    from .worker import run_worker

    huey = queue.huey(app)
    click.echo(f"sel-time worker: {concurrency} at once, queue {type(huey).__name__} "
               f"{huey.name}; Ctrl-C to stop", err=True)
    run_worker(app, concurrency)
