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

# -- metrics and logs (sel_time/operations, docs/operations.md) ----------------------------------
# Prometheus multiprocess mode: every worker writes its counters to files in one directory and a
# scrape of any worker adds them all up. The directory must be set before any worker imports
# prometheus_client, and emptied when the server starts; a dead worker's files are marked.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sel-time-metrics-")


def on_starting(server):  # noqa: ANN001, ANN201  (gunicorn's hook signature)
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):  # noqa: ANN001, ANN201
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# SEL_TIME_LOG_FORMAT=json: gunicorn's own lines are JSON objects too, and sel-time writes one
# access line per request (route class, status, duration, request id) instead of gunicorn's.
if os.environ.get("SEL_TIME_LOG_FORMAT", "plain").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "sel_time.operations.logs.JsonFormatter"}},
        "filters": {"request_id": {"()": "sel_time.operations.logs.RequestId"},
                    "redact": {"()": "sel_time.operations.logs.RedactSecrets"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "filters": ["request_id", "redact"],
                                 "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            # sel-time's own access line (with the request id) replaces gunicorn's.
            "gunicorn.access": {"level": "WARNING", "handlers": ["console"], "propagate": False},
        },
    }
