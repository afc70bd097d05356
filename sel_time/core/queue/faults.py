"""A hook for the crash tests only: with ``SEL_TIME_TEST_PAUSE_AT=<point>`` in the environment,
say so on stderr and sleep there (``SEL_TIME_TEST_PAUSE_SECONDS``, default 60), so that a test
can kill the process (a worker, a refresh) at exactly that point. Never set in a deployment."""

from __future__ import annotations

import os
import sys
import time


def pause_for_tests(point: str) -> None:
    if os.environ.get("SEL_TIME_TEST_PAUSE_AT") != point:
        return
    sys.stderr.write(f"sel-time test pause: {point}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get("SEL_TIME_TEST_PAUSE_SECONDS", "60")))
