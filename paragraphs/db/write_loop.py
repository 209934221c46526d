"""Write transactions on a thread of their own, with an event loop that does nothing else.

A write holds locks from its first hot statement to `COMMIT`: on SQLite the one write lock (and every
process's lock file, sqlite_write_lock.py) from `BEGIN IMMEDIATE`; on PostgreSQL the rows every
writer shares (the corpus version, the counts and posting bitmaps of words like `the`). Each
statement is a round trip whose answer comes back to an event loop, and in a busy API process
dozens of requests' steps are queued there before it, all while the locks are held. Measured on the
mixed load (bench/RESULTS.md, two `serve` processes): on SQLite (44 writes/s beside ~600
searches/s) a write of six statements held the lock 4 ms at the median but 52 ms at p90 and 245 ms
at p99, and writers waited 0.56 s at the median for it; on PostgreSQL (30 writes/s beside ~700
requests/s) a write took 301 ms at the median and 2.2 s at p99. Run here, a transaction's round
trips come back to a loop with nothing else to do.

`Database.transact` (every API write) runs here; `Database.write()` blocks (the CLI, definitions)
stay on the caller's loop (on SQLite the lock file orders both). The loop and its thread start with
the first transaction and stop in `close`. What a transaction returns (ORM objects, loaded, never
expired on commit) is handed back to the caller's loop as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from paragraphs.db.failures import retry_transaction
from paragraphs.db.sqlite_checkpoint import SqliteCheckpointer
from paragraphs.db.sqlite_write_lock import SqliteWriteLock

T = TypeVar("T")


@dataclass(frozen=True)
class _Running:
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    lock: SqliteWriteLock | None
    checkpointer: SqliteCheckpointer | None


class WriteLoop:
    """`sqlite_lock`: SQLite's database file, whose lock file every transaction holds, and whose log
    is checkpointed after commits, outside that lock (sqlite_checkpoint.py; `make_engine`'s connections
    must not checkpoint by themselves); None on PostgreSQL."""

    def __init__(self, make_engine: Callable[[], AsyncEngine], sqlite_lock: Path | None = None) -> None:
        self._make_engine = make_engine
        self._database = sqlite_lock
        self._starting = threading.Lock()
        self._running: _Running | None = None

    async def transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one write transaction on the writer's loop, retried as `Database.transact` retries."""
        running = self._start()

        def held() -> AbstractAsyncContextManager[object]:
            return running.lock.held() if running.lock is not None else contextlib.nullcontext()

        async def once() -> T:
            async with held(), running.sessions() as session, session.begin():
                return await work(session)

        async def committed() -> T:
            result = await retry_transaction(once)
            if running.checkpointer is not None:
                running.checkpointer.after_commit()
            return result

        done = asyncio.run_coroutine_threadsafe(committed(), running.loop)
        return await asyncio.wrap_future(done)

    @property
    def checkpointer(self) -> SqliteCheckpointer | None:
        """SQLite's checkpointer once the loop runs (tests and diagnostics)."""
        return self._running.checkpointer if self._running is not None else None

    def _start(self) -> _Running:
        with self._starting:
            if self._running is None:
                loop = asyncio.new_event_loop()
                engine = self._make_engine()
                thread = threading.Thread(target=loop.run_forever, name="write-loop", daemon=True)
                self._running = _Running(
                    loop, thread, engine, async_sessionmaker(engine, expire_on_commit=False),
                    SqliteWriteLock(self._database) if self._database is not None else None,
                    SqliteCheckpointer(self._database) if self._database is not None else None,
                )  # fmt: skip
                thread.start()
            return self._running

    async def close(self) -> None:
        """Closes the writer's connection and stops its loop (a later transaction starts them again)."""
        with self._starting:
            running, self._running = self._running, None
        if running is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_wind_down(running.engine), running.loop))
        running.loop.call_soon_threadsafe(running.loop.stop)
        await asyncio.to_thread(running.thread.join)
        running.loop.close()
        if running.checkpointer is not None:
            await asyncio.to_thread(running.checkpointer.close)


async def _wind_down(engine: AsyncEngine) -> None:
    """On the writer's loop: transactions still under way (a background job's, at shutdown) are
    cancelled and awaited, so each rolls back and lets go of SQLite's lock file before the loop stops;
    a loop stopped under a pending transaction kept the lock file's lock for the rest of the process
    (every later writer of the file waited for ever). Then the connection is closed."""
    pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await engine.dispose()
