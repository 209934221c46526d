"""A real `paragraphs worker --metrics-port` (prefork), and reading its scrape."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import cli_env, free_port, stop
from tests.services import REDIS_URL, missing, reachable

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

# Database 13 of the test Redis server: the worker tests' broker, emptied before each.
BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + "/13"


def worker_settings(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A worker's environment: SQLite under tmp_path, the emptied Redis broker, JSON logs, plus `extra`."""
    if not reachable(BROKER_URL, 6379):
        missing("redis broker", BROKER_URL)
    redis.Redis.from_url(BROKER_URL).flushdb()
    return {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
        "PARAGRAPHS_BROKER_URL": BROKER_URL,
        "PARAGRAPHS_LOG_JSON": "true",
        **extra,
    }


@dataclass
class MetricsWorker:
    metrics_url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self, last_chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-last_chars:]

    def samples(self) -> Samples:
        """Every sample of the scrape by (name, sorted labels); empty while the worker is not serving yet."""
        try:
            text = httpx.get(self.metrics_url, timeout=5).text
        except httpx.TransportError:
            return {}
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def wait_for(self, name: str, labels: Mapping[str, str], at_least: float, timeout_s: float = 90) -> Samples:
        """Scrape until `name{labels}` reaches `at_least` (bounded: fails with the worker's log). Async: the
        app that sent the job publishes it from its event loop, which must keep running meanwhile."""
        key = (name, tuple(sorted(labels.items())))
        deadline = time.monotonic() + timeout_s
        while (scraped := self.samples()).get(key, 0) < at_least:
            assert self.process.poll() is None, f"worker exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"{name}{dict(labels)} < {at_least} after {timeout_s} s:\n{self.log()}"
            await asyncio.sleep(0.3)
        return scraped


@contextmanager
def metrics_worker(settings: Mapping[str, str], log_path: Path) -> Iterator[MetricsWorker]:
    """`paragraphs worker --concurrency 1 --metrics-port P` (prefork: jobs run in a child process)."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "paragraphs", "worker", "--concurrency", "1", "--metrics-port", str(port)],
            env=cli_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield MetricsWorker(f"http://127.0.0.1:{port}/metrics", process, log_path)
    finally:
        stop(process)
