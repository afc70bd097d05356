"""gunicorn settings for sel-time: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Plans solve in a worker thread, but a finance what-if plans two scenarios inside its request,
so workers may take longer than gunicorn's 30 s default before answering.
"""
import os

bind = os.environ.get("SEL_TIME_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SEL_TIME_WORKERS", "2"))
threads = int(os.environ.get("SEL_TIME_THREADS", "4"))
timeout = int(os.environ.get("SEL_TIME_WORKER_TIMEOUT", "180"))
graceful_timeout = 30
accesslog = "-"
# Feed and one-click tokens in request paths are redacted by sel-time's log filter.
