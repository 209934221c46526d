"""`paragraphs serve --workers N`: several processes behind one port, metrics summed over all of them."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from paragraphs.settings import Settings
from tests.e2e.server import Server, connections_per_worker, listening_sockets, serve

pytestmark = pytest.mark.e2e

REQUESTS_TOTAL = "paragraphs_http_requests_total"
# Not /health: start-up polls that one, and a poll that timed out on the client can still be counted.
READY = {"handler": "/health/ready", "method": "GET", "status": "200"}
SPREAD_TIMEOUT_S = 60.0


def ready_requests_by_process(metrics_dir: Path) -> dict[str, float]:
    """Requests to /health/ready each worker counted, read from its own metric file."""
    counted: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        for family in MultiProcessCollector.merge([str(path)], accumulate=True):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                if sample.name == REQUESTS_TOTAL and sample.labels == READY:
                    counted[path.stem] = sample.value
    return counted


def ready_requests_reported(server: Server) -> float:
    for family in text_string_to_metric_families(httpx.get(f"{server.url}/metrics", timeout=10).text):
        for sample in family.samples:
            if sample.name == REQUESTS_TOTAL and sample.labels == READY:
                return sample.value
    return 0.0


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")  # serve must clear it
    return directory


@pytest.fixture
def two_workers(tmp_path: Path, metrics_dir: Path) -> Iterator[Server]:
    settings = {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
        "PARAGRAPHS_OFFLINE": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    with serve(settings, tmp_path, args=["--workers", "2"]) as server:
        yield server


def test_metrics_add_up_over_two_workers(two_workers: Server, metrics_dir: Path) -> None:
    sent = 0
    deadline = time.monotonic() + SPREAD_TIMEOUT_S

    def fresh_connection_request(_: int) -> int:
        return httpx.get(f"{two_workers.url}/health/ready", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        # Which process accepts a connection is the kernel's choice: send until both have served some.
        while len(counted := ready_requests_by_process(metrics_dir)) < 2 or min(counted.values()) < 1:
            assert time.monotonic() < deadline, f"requests never reached both workers: {counted}"
            assert list(pool.map(fresh_connection_request, range(8))) == [200] * 8
            sent += 8
    # A request is counted just after its response is sent: wait (bounded) for the last ones to land.
    while sum(ready_requests_by_process(metrics_dir).values()) != sent:
        assert time.monotonic() < deadline, f"{ready_requests_by_process(metrics_dir)} never added up to {sent}"
        time.sleep(0.05)
    assert ready_requests_reported(two_workers) == sent


def gauge_samples(server: Server, name: str) -> list[tuple[dict[str, str], float]]:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_gauges_are_one_series_read_across_both_workers(two_workers: Server) -> None:
    """Without a multiprocess mode a gauge is one series per process (a `pid` label) that alerts would
    have to aggregate; with ours each is one series: pool sizes summed over the live processes,
    readiness the most recent check by either (docs/operations.md, "Gauges")."""
    per_process = Settings.model_fields["database_pool_size"].default
    deadline = time.monotonic() + SPREAD_TIMEOUT_S
    # Each process adds its pools when its lifespan starts; the second may still be starting.
    while read_pool_size(two_workers) < 2 * per_process:
        assert time.monotonic() < deadline, gauge_samples(two_workers, "paragraphs_db_pool_size")
        time.sleep(0.1)
    sizes = sorted((labels["pool"], value) for labels, value in gauge_samples(two_workers, "paragraphs_db_pool_size"))
    assert sizes == [("read", 2 * per_process), ("write", 2.0)]
    assert httpx.get(f"{two_workers.url}/health/ready", timeout=10).status_code == 200
    up = {labels["dependency"]: value for labels, value in gauge_samples(two_workers, "paragraphs_dependency_up")}
    assert len(up) == len(gauge_samples(two_workers, "paragraphs_dependency_up"))  # one series per dependency
    assert up["database"] == 1
    checked_out = gauge_samples(two_workers, "paragraphs_db_pool_checked_out")
    assert sorted(labels["pool"] for labels, _ in checked_out) == ["read", "write"]


def read_pool_size(server: Server) -> float:
    return sum(value for labels, value in gauge_samples(server, "paragraphs_db_pool_size") if labels["pool"] == "read")


def test_connections_opened_at_once_are_spread_over_the_workers(two_workers: Server) -> None:
    """Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads connections
    over them; on one shared socket, the worker that woke first took a whole burst (bench/RESULTS.md,
    "fourth session"): 40/0 here. 40 connections on one of two sockets by chance: 1 in 2**39."""
    port = int(two_workers.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + SPREAD_TIMEOUT_S
    while listening_sockets(port) < 2:  # a worker listens once its app has started
        assert time.monotonic() < deadline, f"{listening_sockets(port)} sockets listening"
        time.sleep(0.1)
    connections = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(40)]  # a burst
    try:
        for connection in connections:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: paragraphs.test\r\n\r\n")
        for connection in connections:
            assert connection.recv(64).startswith(b"HTTP/1.1 200"), "every connection is answered"
        split = connections_per_worker(two_workers.process.pid, port)
    finally:
        for connection in connections:
            connection.close()
    assert sum(split) == 40
    assert len(split) == 2, split
