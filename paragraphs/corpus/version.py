"""The corpus version as this process knows it, so a cached /dictionary needs no database round trip.

Every write increments `corpus_state.version` in its own transaction; on PostgreSQL it also sends
`NOTIFY paragraphs_corpus, '<version>'`, which PostgreSQL delivers at commit. Each API process keeps
one connection LISTENing and takes the highest version it has heard of. Its own writes mark the
version unknown (`stale()`), so the next read asks the database: a client sees its own write at once,
and other processes' writes within the notification's latency (well under a millisecond on one host).

On SQLite, a connection of its own answers `PRAGMA data_version`, a number that changes whenever any
other connection (this process's writer, another process) commits: ~4 us, in the event loop, no
thread hop. While it has not changed, the version read last still holds; when it has, the version
is read again. Without either (the listening connection lost and being re-made, an in-memory
SQLite database), every read asks the database, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import asyncpg
import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url

from paragraphs.db.engine import Database
from paragraphs.db.models import CorpusState

log = structlog.get_logger(__name__)

CHANNEL = "paragraphs_corpus"
RECONNECT_S = 1.0
VERSION = select(CorpusState.version).where(CorpusState.id == 1)


class SqliteChanges:
    """`PRAGMA data_version` on a connection that never writes; None when it cannot say."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA busy_timeout=0")

    def mark(self) -> int | None:
        try:
            row = self._connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0])

    def close(self) -> None:
        self._connection.close()


def sqlite_changes(db: Database) -> SqliteChanges | None:
    path = db.engine.url.database
    if db.dialect != "sqlite" or path in (None, "", ":memory:"):
        return None
    return SqliteChanges(path)


class CorpusVersion:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: int | None = None
        self._listening = False
        self._task: asyncio.Task[None] | None = None
        self._changes = sqlite_changes(db)
        self._mark: int | None = None

    async def current(self) -> int:
        if self._listening and self._known is not None:
            return self._known
        if self._changes is not None:
            return await self._current_sqlite(self._changes)
        version = await self._read()
        if self._listening:
            self._known = version if self._known is None else max(self._known, version)
        return version

    async def _current_sqlite(self, changes: SqliteChanges) -> int:
        mark = changes.mark()  # before the read: a commit in between makes the next call read again
        if mark is not None and mark == self._mark and self._known is not None:
            return self._known
        version = await self._read()
        self._mark, self._known = mark, version
        return version

    def stale(self) -> None:
        """This process wrote: ask the database next time."""
        self._known = None

    def _heard(self, version: int) -> None:
        if self._known is not None:
            self._known = max(self._known, version)

    async def _read(self) -> int:
        async with self._db.search_engine.connect() as connection:
            if self._db.dialect == "postgresql":
                # One statement, no transaction around it: one round trip instead of three.
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return int(await connection.scalar(VERSION) or 0)

    def start(self) -> None:
        if self._db.dialect == "postgresql" and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="corpus-version-listener")

    async def close(self) -> None:
        if self._changes is not None:
            self._changes.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        dsn = make_url(self._db.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                await self._listen_once(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("corpus version listener cannot connect", error=f"{type(exc).__name__}: {exc}"[:200])
            await asyncio.sleep(RECONNECT_S)

    async def _listen_once(self, dsn: str) -> None:
        """Listen on one connection until it is lost."""
        lost = asyncio.Event()
        connection = await _connect(dsn)
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, lambda _c, _pid, _channel, payload: self._heard(int(payload)))
            self._known = None  # anything written while we were not listening: read it afresh
            self._listening = True
            await lost.wait()
            log.warning("corpus version listener lost its connection; reading versions from the database")
        finally:
            self._listening = False
            if not connection.is_closed():
                await connection.close()


async def _connect(dsn: str) -> asyncpg.Connection:
    """Connect; if cancelled meanwhile (the app stopping), close the connection the attempt still makes."""
    attempt = asyncio.ensure_future(asyncpg.connect(dsn))
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            connection = await asyncio.wait_for(attempt, timeout=5)
            await connection.close()
        raise
