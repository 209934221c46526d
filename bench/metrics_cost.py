"""What counting costs on a hot path: a MemoryCache hit (a cached search or /dictionary in one process)
with its `paragraphs_cache_hits_total` increment, against the same hit uncounted.

`python -m bench.metrics_cost`; prints microseconds per hit, best of 5 rounds of 300,000.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from paragraphs import cache

ROUNDS = 5
HITS = 300_000
KEY = "paragraphs:search:1:abc"


async def best_us_per_hit() -> float:
    memory = cache.MemoryCache()
    await memory.set(KEY, b"x" * 100, 600)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(HITS):
            await memory.get(KEY)
        best = min(best, (time.perf_counter() - started) / HITS * 1e6)
    return best


def measure(label: str, record_level: Callable[..., None]) -> None:
    original = cache.record_level
    cache.record_level = record_level
    try:
        print(f"{label:<40} {asyncio.run(best_us_per_hit()):.2f} µs")
    finally:
        cache.record_level = original


def main() -> None:
    def uncounted(*_args: object) -> None:
        return None

    def labels_each_time(feature: str, level: str, hits: int = 1) -> None:
        cache.CACHE_HITS.labels(feature, level).inc(hits)

    measure("hit, counted (the labelled child cached)", cache.record_level)
    measure("hit, counted with labels() each time", labels_each_time)
    measure("hit, not counted", uncounted)


if __name__ == "__main__":
    main()
