"""Engines and transactions for SQLite (embedded) and PostgreSQL (production).

Reads and writes go through separate session factories. On PostgreSQL both use one pool. On SQLite
the writer is a single pooled connection that opens every transaction with `BEGIN IMMEDIATE`: the
write lock is taken up front, so two writers can never each hold a read lock and wait for the other
(the classic SQLite upgrade deadlock, SQLITE_BUSY), and in-process writers queue on the pool instead
of spinning on `busy_timeout`. Other processes (a CLI import beside the server) wait up to
`busy_timeout`. WAL lets readers go on while a write is under way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from paragraphs.db.failures import retry_transaction, translate_failures
from paragraphs.db.pool_metrics import PoolWatch
from paragraphs.db.sqlite_reader import SqliteReader
from paragraphs.db.sqlite_write_lock import SqliteWriteLock
from paragraphs.db.write_loop import WriteLoop

T = TypeVar("T")

Dialect = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# asyncpg waits 60 s for a connection by default; a database that does not answer in 5 s is a 503.
CONNECT_TIMEOUT_S = 5


def async_url(database_url: str) -> URL:
    """`sqlite:///x.db` -> `sqlite+aiosqlite:///x.db`; `postgresql[+any]://` -> `postgresql+asyncpg://`."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use sqlite:// or postgresql://")


def dialect_of(database_url: str) -> Dialect:
    return "sqlite" if async_url(database_url).get_backend_name() == "sqlite" else "postgresql"


def _sqlite_file(url: URL) -> Path | None:
    if url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, say when transactions begin (SQLAlchemy's
    # "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite/aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses at most the last commits
    cursor.close()


def _no_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    """The write loop's connection never checkpoints inside its COMMIT (db/sqlite_checkpoint.py)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _sqlite_engine(url: URL, *, begin: str, pool_size: int, checkpoints: bool = True) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=60)
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    if not checkpoints:
        event.listen(engine.sync_engine, "connect", _no_checkpoints)

    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    event.listen(engine.sync_engine, "begin", _begin)
    return engine


def _postgres_engine(url: URL, pool_size: int) -> AsyncEngine:
    """Connections opened stay open (no overflow): an overflow connection is closed when it comes back
    to a full pool, and under a steady load a little above the pool's size each request paid a new
    connection (a server process forked, an SSL attempt; measured by py-spy on the mixed load)."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT_S},
    )
    translate_failures(engine)
    return engine


# Settings of the search pool's connections (PostgreSQL). Its statements are all index reads:
# the planner ignores the cost of detoasting a vector per row and would pick a sequential scan for a
# common word's count (460 ms at 100k paragraphs, against 16 ms by the GIN index); JIT compilation
# only adds start-up time to these millisecond queries.
# The search time budget is the connection's own `statement_timeout` too, so a search with the
# configured budget needs no `SET LOCAL` round trip (search/budget.py).
SEARCH_SERVER_SETTINGS = {"enable_seqscan": "off", "jit": "off"}
DEFAULT_SEARCH_TIMEOUT_S = 5.0


def timeout_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


@dataclass
class Database:
    engine: AsyncEngine
    write_engine: AsyncEngine
    search_engine: AsyncEngine
    dialect: Dialect
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    pool_watches: list[PoolWatch] = field(default_factory=list)
    # SQLite in a file: the search's reads in one thread hop (db/sqlite_reader.py).
    sqlite_reader: SqliteReader | None = None
    # SQLite in a file: writers of all processes queue on one lock file (db/sqlite_write_lock.py).
    sqlite_write_lock: SqliteWriteLock | None = None
    # PostgreSQL, SQLite in a file: `transact` on a loop of its own (db/write_loop.py).
    write_loop: WriteLoop | None = None
    # PostgreSQL: the `statement_timeout` every search connection starts with.
    search_timeout_s: float = DEFAULT_SEARCH_TIMEOUT_S

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        if self.sqlite_write_lock is None:
            async with self.writer() as session, session.begin():
                yield session
            return
        async with self.sqlite_write_lock.held(), self.writer() as session, session.begin():
            yield session

    async def transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one write transaction, run again if the database rolled it back for a deadlock or a
        serialization failure (they leave nothing behind). Other errors are raised at once. On SQLite
        in a file and on PostgreSQL it runs on a loop of its own (db/write_loop.py)."""
        if self.write_loop is not None:
            return await self.write_loop.transact(work)

        async def once() -> T:
            async with self.write() as session:
                return await work(session)

        return await retry_transaction(once)

    async def dispose(self) -> None:
        for engine in {id(e): e for e in (self.engine, self.write_engine, self.search_engine)}.values():
            await engine.dispose()
        for watch in self.pool_watches:
            watch.forget()
        self.pool_watches.clear()
        if self.write_loop is not None:
            await self.write_loop.close()
        if self.sqlite_reader is not None:
            await asyncio.to_thread(self.sqlite_reader.close)  # waits for reads under way


def create_database(
    database_url: str, *, pool_size: int = 10, search_timeout_s: float = DEFAULT_SEARCH_TIMEOUT_S
) -> Database:
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(url, begin="BEGIN", pool_size=pool_size)
        write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1)
        search_engine = engine
        dialect: Dialect = "sqlite"
        watches = [PoolWatch(engine, "read", pool_size), PoolWatch(write_engine, "write", 1)]
        sqlite_reader = SqliteReader(str(path), threads=min(pool_size, 4)) if path is not None else None
        write_lock = SqliteWriteLock(path) if path is not None else None
        writer = (
            WriteLoop(lambda: _sqlite_engine(url, begin="BEGIN IMMEDIATE", pool_size=1, checkpoints=False), path)
            if path is not None
            else None
        )
    else:
        # Each process opens at most 2 x pool_size for reads and 2 x pool_size for searches (the ceilings
        # of the pool and its overflow before), and half pool_size for the write loop's API writes
        # (they queue on the shared rows anyway): 4.5 x pool_size (docs/operations.md).
        engine = _postgres_engine(url, 2 * pool_size)
        write_engine = engine
        # No pre-ping on the hot read pool (a round trip per checkout, a third of a cached /dictionary):
        # after a database restart the first statement on a stale connection fails, which invalidates
        # the whole pool, and that request gets a 503 (errors.py); the next ones reconnect.
        search_engine = create_async_engine(
            url,
            pool_size=2 * pool_size,
            max_overflow=0,
            pool_recycle=600,
            connect_args={
                "server_settings": {**SEARCH_SERVER_SETTINGS, "statement_timeout": str(timeout_ms(search_timeout_s))},
                "timeout": CONNECT_TIMEOUT_S,
            },
        )
        translate_failures(search_engine)
        dialect = "postgresql"
        # Reads (and the CLI's writes) use `main`, searches their own pool, API writes the write loop's.
        watches = [PoolWatch(engine, "main", 2 * pool_size), PoolWatch(search_engine, "search", 2 * pool_size)]
        sqlite_reader = None
        write_lock = None
        writer = WriteLoop(lambda: _postgres_engine(url, max(1, pool_size // 2)))
    options: dict[str, Any] = {"expire_on_commit": False}
    return Database(
        engine=engine,
        write_engine=write_engine,
        search_engine=search_engine,
        dialect=dialect,
        reader=async_sessionmaker(engine, **options),
        writer=async_sessionmaker(write_engine, **options),
        pool_watches=watches,
        sqlite_reader=sqlite_reader,
        sqlite_write_lock=write_lock,
        write_loop=writer,
        search_timeout_s=search_timeout_s,
    )
