"""Under gunicorn with two workers, a scrape of /metrics (answered by either worker) adds up both
workers' counts: prometheus-client's multiprocess mode, set up by gunicorn.conf.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from support.processes import process_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "scrape-" + "k" * 40
ROUTE = "/health"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _health_count(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "sel_time_http_requests_total" and s.labels.get("route") == ROUTE:
                total += s.value
    return total


def _per_worker(directory: Path, tmp: Path) -> dict[int, float]:
    """Each worker's own count of /health requests, read from its own file alone."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        alone = tmp / f"one-{path.stem}"
        alone.mkdir(exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[int(path.stem.split("_")[1])] = sum(
            s.value for m in registry.collect() for s in m.samples
            if s.name == "sel_time_http_requests_total" and s.labels.get("route") == ROUTE)
    return counts


@pytest.mark.slow
def test_two_workers_counts_are_added_up(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'app.sqlite'}"
    metrics_dir = tmp_path / "metrics"
    env = process_env(DATABASE_URL=database, SEL_TIME_METRICS_TOKEN=TOKEN,
                      PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), SEL_TIME_WORKERS="2",
                      SEL_TIME_THREADS="2", PYTHONUNBUFFERED="1")
    migrated = subprocess.run([str(BIN / "sel-time"), "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as err:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, ROUTE)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
            time.sleep(0.2)
        sent = 1
        with ThreadPoolExecutor(max_workers=6) as pool:
            # Until both workers have answered some (the kernel shares the connections out).
            while sent < 600:
                codes = list(pool.map(lambda _n: _get(port, ROUTE)[0], range(30)))
                assert codes == [200] * 30
                sent += 30
                workers = _per_worker(metrics_dir, tmp_path)
                if len([n for n in workers.values() if n > 0]) >= 2:
                    break
        workers = _per_worker(metrics_dir, tmp_path)
        busy = {pid: n for pid, n in workers.items() if n > 0}
        assert len(busy) == 2, workers
        assert sum(busy.values()) == sent
        for _ in range(4):  # whichever worker answers the scrape, it sees every request
            status, text = _get(port, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
            assert status == 200, text
            assert _health_count(text) == sent
        assert _get(port, "/metrics")[0] == 401
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
