"""JSON logs (``SEL_TIME_LOG_FORMAT=json``): one object a line, the request id in every line of
the request and in its response header, and no secret in any line. Plain text stays the default.
Each case runs in a process of its own, since logging is configured once per process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.processes import process_env

ROOT = Path(__file__).resolve().parents[2]
FEED_SECRET = "Fz" * 22
API_SECRET = "st_" + "Q9" * 20
COOKIE = "session=eyJfdXNlcl9pZCI6IjEifQ.secretcookie"


def _run(tmp_path: Path, log_format: str | None) -> subprocess.CompletedProcess[str]:
    overrides = {} if log_format is None else {"LOG_FORMAT": log_format}
    script = textwrap.dedent(f"""
        import logging
        from config import TestingConfig
        from sel_time import create_app
        from sel_time.core.extensions import db
        overrides = {overrides!r}
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite:///{tmp_path}/l.sqlite",
                         **overrides)
        with app.app_context():
            db.create_all()

        @app.get("/probe")
        def probe():
            log = logging.getLogger("sel_time.probe")
            log.info("fetching /feeds/{FEED_SECRET}.ics for Authorization: Bearer {API_SECRET}")
            log.warning("form was password=hunter2&name=x, cookie %s", "{COOKIE}")
            log.info("a structured line", extra={{"token": "{API_SECRET}", "rows": 3}})
            return "ok"

        import threading

        from sel_time.operations.context import current_request_id, request_id_bound

        @app.get("/spawn")
        def spawn():
            # As a queue worker runs a job: bound to the id the request recorded on its row.
            job = logging.getLogger("sel_time.probe.job")
            recorded = current_request_id()

            def work():
                with request_id_bound(recorded):
                    job.info("in the job")

            worker = threading.Thread(target=work)
            worker.start()
            worker.join(30)
            return "ok"

        c = app.test_client()
        c.get("/spawn", headers={{"X-Request-ID": "spawned-by-0002"}})
        r = c.get("/probe", headers={{"X-Request-ID": "trace-0001-abcd"}})
        print("HEADER", r.headers["X-Request-ID"], flush=True)
        r = c.get("/probe")
        print("HEADER", r.headers["X-Request-ID"], flush=True)
    """)
    env = process_env(PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.slow
def test_json_lines_carry_the_request_id_and_no_secret(tmp_path: Path) -> None:
    done = _run(tmp_path, "json")
    assert done.returncode == 0, done.stderr[-3000:]
    headers = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("HEADER")]
    assert headers[0] == "trace-0001-abcd" and len(headers[1]) == 32
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    probe = [x for x in lines if x["logger"] == "sel_time.probe"]
    assert len(probe) == 6
    assert {x["request_id"] for x in probe[:3]} == {"trace-0001-abcd"}
    assert {x["request_id"] for x in probe[3:]} == {headers[1]}
    assert all({"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines)
    assert probe[2]["rows"] == 3
    access = [x for x in lines if x["logger"] == "sel_time.access"]
    assert [(x["route"], x["status"], x["request_id"]) for x in access] == [
        ("/spawn", 200, "spawned-by-0002"), ("/probe", 200, "trace-0001-abcd"),
        ("/probe", 200, headers[1])]
    for secret in (FEED_SECRET, API_SECRET, "hunter2", "secretcookie"):
        assert secret not in done.stderr, secret
    assert "[redacted]" in probe[0]["message"]
    # A job the request started in a thread writes with the request's id.
    [job] = [x for x in lines if x["logger"] == "sel_time.probe.job"]
    assert job["request_id"] == "spawned-by-0002"


@pytest.mark.slow
def test_plain_text_stays_the_default(tmp_path: Path) -> None:
    done = _run(tmp_path, None)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = [line for line in done.stderr.splitlines() if "sel_time.probe" in line]
    assert probe and not probe[0].lstrip().startswith("{")
    for secret in (FEED_SECRET, API_SECRET, "hunter2", "secretcookie"):
        assert secret not in done.stderr, secret
