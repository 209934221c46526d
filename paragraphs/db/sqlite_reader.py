"""Read-only work on SQLite as one synchronous function on a plain sqlite3 connection.

A search through SQLAlchemy and aiosqlite took ~20 hops between the event loop and aiosqlite's
thread (each statement makes a cursor, executes, fetches and closes it; then BEGIN, the progress
handler set and unset, the pool's reset) and compiled its statements every time: 3.1 ms against
0.25 ms for the same FTS5 queries run directly at 100,000 paragraphs (bench/RESULTS.md). Here the
whole read (one snapshot: BEGIN ... ROLLBACK) is one call: `run_inline` in the event loop's own
thread for work known to be cheap (no hop at all), `run` in a small thread pool (one hop), each
thread with its own connection, opened once.

Both bound the work: a progress handler stops any statement once the deadline has passed or (`run`)
the caller was cancelled (its client went away), which sqlite3 raises as `OperationalError:
interrupted`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

PROGRESS_STEPS = 1_000  # ~0.1 ms of work between two looks at the clock
BUSY_TIMEOUT_MS = 30_000


class SqliteReader:
    def __init__(self, path: str, threads: int = 4) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-reader")
        self._inline: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # isolation_level=None: BEGIN and ROLLBACK are ours; check_same_thread=False only so
            # close() can close it from the event loop's thread once the pool has stopped.
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA query_only=ON")
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            # busy_timeout=0: the event loop must never wait on a lock; run_inline's caller goes to the pool.
            self._inline = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._inline.execute("PRAGMA busy_timeout=0")
            self._inline.execute("PRAGMA query_only=ON")
        return self._inline

    def run_inline(self, work: Callable[[sqlite3.Connection], T], budget_s: float) -> T:
        """`work(connection)` in one read transaction in the calling (event loop) thread: no hop at
        all, for work known to take well under a millisecond. It blocks the loop while it runs."""
        return _transaction(self._inline_connection(), work, time.monotonic() + budget_s, threading.Event())

    async def run_soon(self, work: Callable[[sqlite3.Connection], T], budget_s: float) -> T:
        """`run_inline` for work known to be cheap, or `run` if the loop's connection met a writer's
        lock (it never waits for one: the pool's connections do)."""
        try:
            return self.run_inline(work, budget_s)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        return await self.run(work, budget_s)

    async def run(self, work: Callable[[sqlite3.Connection], T], budget_s: float) -> T:
        """`work(connection)` in one read transaction on a pool thread, stopped after `budget_s`."""
        deadline = time.monotonic() + budget_s
        cancelled = threading.Event()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: _transaction(self._connection(), work, deadline, cancelled)
        )
        try:
            return await future
        except asyncio.CancelledError:
            cancelled.set()  # the statement still running in the pool thread stops at its next step
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
        if self._inline is not None:
            self._inline.close()
            self._inline = None


def _transaction(
    connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T], deadline: float, cancelled: threading.Event
) -> T:
    def stop() -> int:
        return int(cancelled.is_set() or time.monotonic() > deadline)

    connection.execute("BEGIN")  # one snapshot for every statement of `work`
    try:
        connection.set_progress_handler(stop, PROGRESS_STEPS)
        try:
            return work(connection)
        finally:
            connection.set_progress_handler(None, 0)  # before ROLLBACK, which must not be stopped
    finally:
        connection.execute("ROLLBACK")
