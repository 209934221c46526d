"""What a `paragraphs serve` process does once its resources are open, before its first request.

Measured on the mixed load (bench/RESULTS.md, "fifth session"), two workers on PostgreSQL:
- **Connections.** The pools open connections on demand, so the first burst of requests opened the
  search pool's connections all at once (asyncpg's connect, a PostgreSQL backend forked, the
  dialect's set-up) while the loop was already full: searches took 600-750 ms in the first second
  against ~55 ms at the median afterwards. `open_connections` opens them before the first request.
- **The garbage collector.** A full collection walks every tracked object, and ~160,000 of them are
  the process's own code and set-up (modules, models, routes, the offline dictionary), alive until
  it exits: a worker ran 12 full collections in 30 s of load, 65-115 ms each, the event loop stopped
  for each. `gc.freeze()` moves what exists once start-up is done out of the collector's reach
  (CPython's advice for long-lived processes): the same load, 211-256 ms of full collections in 30 s
  instead of 771-919 ms, the loop's p99 lag 36 -> 23-28 ms.
- **The interpreter's switch interval.** API writes run on a thread of their own (db/write_loop.py);
  each of a write's statements comes back to that thread, which must then wait for the event loop's
  thread to give up the interpreter lock: up to the switch interval, 5 ms by default, per statement,
  while the write holds the rows every writer shares. At 1 ms, in alternating 30 s runs:
  `POST /paragraphs` p99 317-523 -> 131-167 ms, the whole load's p99 (wrk) 315-419 -> 186-202 ms,
  requests/s within the runs' spread (656-734 both ways).

Only `serve` does this (app.factory): a test process builds hundreds of apps, and freezing would keep
every earlier test's garbage for good.
"""

from __future__ import annotations

import asyncio
import gc
import sys

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from paragraphs.db.engine import Database

log = structlog.get_logger(__name__)

# The main pool serves the dictionary's top words and the paragraph pages: a few at once is what a
# busy process needs of it; the search pool is opened whole (every search checks one out).
MAIN_POOL_WARM = 2
WARM_TIMEOUT_S = 10.0
SWITCH_INTERVAL_S = 0.001


async def open_connections(engine: AsyncEngine, count: int) -> int:
    """Checks out `count` connections at once (so the pool opens them all) and returns them; how many
    opened. A database that fails now is met again by the first request, as without this."""
    connections = [engine.connect() for _ in range(count)]
    opened: list[AsyncConnection] = []
    try:
        results = await asyncio.gather(*(connection.start() for connection in connections), return_exceptions=True)
        opened = [connection for connection, result in zip(connections, results, strict=True) if result is connection]
    finally:
        await asyncio.gather(*(connection.close() for connection in opened), return_exceptions=True)
    return len(opened)


def _pool_size(engine: AsyncEngine) -> int:
    pool = engine.pool
    return pool.size() if isinstance(pool, QueuePool) else 1


async def prepare_process(db: Database) -> None:
    """Open the PostgreSQL pools' connections (SQLite's open in microseconds, on first use), freeze
    what start-up made out of the garbage collector's reach, and shorten the switch interval."""
    if db.dialect == "postgresql":
        try:
            async with asyncio.timeout(WARM_TIMEOUT_S):
                search = await open_connections(db.search_engine, _pool_size(db.search_engine))
                main = await open_connections(db.engine, min(MAIN_POOL_WARM, _pool_size(db.engine)))
            log.info("connections opened", search=search, main=main)
        except TimeoutError:
            log.warning("connections not all opened before the first request", timeout_s=WARM_TIMEOUT_S)
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
