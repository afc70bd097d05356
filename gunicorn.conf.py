"""gunicorn settings for sel-time: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Plans and finance what-ifs solve in worker threads outside the request (the browser follows
their progress), so no request waits for the solver; the timeout is generous all the same.
"""
import os

bind = os.environ.get("SEL_TIME_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SEL_TIME_WORKERS", "2"))
threads = int(os.environ.get("SEL_TIME_THREADS", "4"))
timeout = int(os.environ.get("SEL_TIME_WORKER_TIMEOUT", "180"))
graceful_timeout = 30
accesslog = "-"
# Feed and one-click tokens in request paths are redacted by sel-time's log filter.
