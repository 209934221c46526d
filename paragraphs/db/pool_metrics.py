"""Database pool use in /metrics: connections checked out, and the most each pool may open.

`paragraphs_db_pool_checked_out{pool}` follows the pool's checkout and checkin events;
`paragraphs_db_pool_size{pool}` is what the pools of a process may hold at once (`pool_size` plus
`max_overflow`), added when a Database is made and taken off when it is disposed. Both are summed over
the live processes (`serve --workers N`, the worker's children): what the database sees from this
deployment, the figure to hold against PostgreSQL's `max_connections`.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

POOL_CHECKED_OUT = Gauge(
    "paragraphs_db_pool_checked_out",
    "Database connections in use (checked out of the pool), by pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "paragraphs_db_pool_size",
    "Database connections the pool may hold at once (pool size plus overflow), by pool.",
    ["pool"],
    multiprocess_mode="livesum",
)


class PoolWatch:
    """The gauges of one engine's pool, named `name`; `forget()` when the engine is disposed."""

    def __init__(self, engine: AsyncEngine, name: str, capacity: int) -> None:
        self._name = name
        self._capacity = capacity
        checked_out = POOL_CHECKED_OUT.labels(name)

        def checkout(*_args: Any) -> None:
            checked_out.inc()

        def checkin(*_args: Any) -> None:
            # Also called for a connection invalidated while out (a database restart): it left the pool's count too.
            checked_out.dec()

        event.listen(engine.sync_engine, "checkout", checkout)
        event.listen(engine.sync_engine, "checkin", checkin)
        POOL_SIZE.labels(name).inc(capacity)

    def forget(self) -> None:
        POOL_SIZE.labels(self._name).dec(self._capacity)
        self._capacity = 0
