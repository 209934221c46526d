"""Writes with the broker up and down (issue 8, item 6): the same POST /paragraphs, in-process (ASGI),
on a fresh SQLite file, with a Celery broker that answers and with one that refuses connections.

    python -m bench.broker_outage --broker-url redis://127.0.0.1:6379/13 [--writes 300]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import Timing
from paragraphs.logs import configure_logging
from paragraphs.settings import Settings
from tests.apps import app_client

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


async def writes(broker_url: str, count: int, directory: Path) -> Timing:
    settings = Settings(
        database_url=f"sqlite:///{directory / (broker_url.replace('/', '_') + '.db')}",
        offline=True,
        broker_url=broker_url,
        _env_file=None,
    )
    samples: list[float] = []
    async with app_client(settings) as client:
        for i in range(count + 20):
            started = time.perf_counter()
            response = await client.post("/paragraphs", json={"content": f"paragraph number {i} of a meadow"})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 201, response.text
            if i >= 20:  # warm-up
                samples.append(elapsed)
    return Timing(samples)


async def main(broker_url: str, count: int) -> None:
    configure_logging("error")
    with tempfile.TemporaryDirectory() as directory:
        for label, url in (("broker up", broker_url), ("broker down", DEAD_BROKER)):
            timing = await writes(url, count, Path(directory))
            mean = sum(timing.samples_ms) / len(timing.samples_ms)
            print(f"{label:12} {count} writes: mean {mean:6.2f} ms  p50 {timing.p50:6.2f} ms  p95 {timing.p95:6.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker-url", required=True)
    parser.add_argument("--writes", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.broker_url, arguments.writes))
