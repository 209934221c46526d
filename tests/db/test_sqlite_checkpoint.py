"""SQLite: API writes (the write loop) never checkpoint inside their COMMIT, while they hold every
process's lock file; the log is copied back after the commit, outside it (db/sqlite_checkpoint.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs.db.engine import Database, create_database
from paragraphs.db.sqlite_checkpoint import SqliteCheckpointer
from tests.waiting import eventually

GUARD_S = 30  # only a bound on a hang; nothing here is timed


async def autocheckpoint(session: AsyncSession) -> int:
    return int(await session.scalar(text("PRAGMA wal_autocheckpoint")) or 0)


async def table_database(path: Path) -> Database:
    db = create_database(f"sqlite:///{path}")
    async with db.write() as session:
        await session.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
    return db


async def test_api_writes_leave_checkpoints_to_the_checkpointer_and_the_cli_keeps_sqlites_own(tmp_path: Path) -> None:
    db = await table_database(tmp_path / "p.db")
    try:
        assert await db.transact(autocheckpoint) == 0
        async with db.write() as session:
            assert await autocheckpoint(session) == 1000  # SQLite's default, for the CLI's bulk loads
    finally:
        await db.dispose()


async def test_the_log_of_api_writes_is_copied_back_after_they_commit(tmp_path: Path) -> None:
    db = await table_database(tmp_path / "p.db")
    try:

        async def add(session: AsyncSession) -> None:
            await session.execute(text("INSERT INTO t VALUES (1, :pad)"), {"pad": "x" * 20_000})

        await asyncio.wait_for(db.transact(add), GUARD_S)
        assert db.write_loop is not None
        checkpointer = db.write_loop.checkpointer
        assert checkpointer is not None
        await eventually(lambda: checkpointer.runs >= 1, GUARD_S)
        assert checkpointer.last is not None
        busy, log, copied = checkpointer.last
        assert (busy, copied) == (0, log)  # every page of the log copied into the file
        assert log > 0
    finally:
        await db.dispose()


async def test_a_checkpoint_never_waits_and_runs_at_most_once_an_interval(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (n INTEGER)")
    checkpointer = SqliteCheckpointer(path, min_interval_s=3600)
    try:
        for _ in range(50):
            checkpointer.after_commit()  # returns at once; the second and later fall in the interval
        await eventually(lambda: checkpointer.runs == 1, GUARD_S)
        checkpointer.after_commit()
        await asyncio.sleep(0.1)
        assert checkpointer.runs == 1
    finally:
        checkpointer.close()
