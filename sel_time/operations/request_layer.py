"""WSGI middleware outside everything else (the feed fast path included): a request id for each
request, its latency and status counted by route class, and, in JSON logging, one access line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .context import HEADER, request_id_bound, request_id_from
from .metrics import FEED_REQUESTS, HTTP_LATENCY, HTTP_REQUESTS

ROUTE_KEY = "sel_time.route"  # set by the app for each request Flask routes (see routes.py)
FAST_ROUTE = "/feeds/<token>.ics (fast path)"
UNMATCHED = "unmatched"
access_log = logging.getLogger("sel_time.access")


class Instrumented:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], *, access_lines: bool) -> None:
        self.wsgi_app = wsgi_app
        self.access_lines = access_lines

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = request_id
        environ["sel_time.request_id"] = request_id
        seen: dict[str, str] = {}

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        started = time.perf_counter()
        with request_id_bound(request_id):
            try:
                return self.wsgi_app(environ, respond)
            finally:
                self._count(environ, seen.get("status", "500"), time.perf_counter() - started)

    def _count(self, environ: dict[str, Any], status: str, seconds: float) -> None:
        method = environ.get("REQUEST_METHOD", "")
        method = method if method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS") else "other"
        route = environ.get(ROUTE_KEY)
        path = environ.get("PATH_INFO", "")
        if route is None:
            is_feed = path.startswith("/feeds/") and path.endswith(".ics")
            route = FAST_ROUTE if is_feed else UNMATCHED
            if is_feed:
                FEED_REQUESTS.labels(path="fast", status=status).inc()
        elif route == "/feeds/<token>.ics":
            FEED_REQUESTS.labels(path="full", status=status).inc()
        HTTP_REQUESTS.labels(route=route, method=method, status=status).inc()
        HTTP_LATENCY.labels(route=route, method=method).observe(seconds)
        if self.access_lines:
            access_log.info("%s %s %s", method, route, status, extra={
                "method": method, "route": route, "status": int(status) if status.isdigit()
                else status, "duration_ms": round(seconds * 1000, 1)})
