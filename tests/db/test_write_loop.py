"""Write transactions (`Database.transact`) run on a loop of their own (db/write_loop.py), on both
engines: committed or rolled back as a whole, errors raised to the caller as they are, SQLite's lock
file let go whatever happens, and the loop stopped by `dispose`."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph, Source
from paragraphs.db.sqlite_write_lock import SqliteWriteLock

GUARD_S = 30  # only a bound on a hang; nothing here is timed
WRITE_LOOP_THREAD = "write-loop"


async def paragraphs(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)


async def test_a_transaction_runs_on_the_writers_loop_and_its_result_comes_back(db: Database) -> None:
    caller = asyncio.get_running_loop()
    seen: dict[str, object] = {}

    async def work(session: AsyncSession) -> Paragraph:
        seen["loop"], seen["thread"] = asyncio.get_running_loop(), threading.current_thread().name
        return await corpus_service.create_paragraph(session, "Written on the writer's loop.", Source.USER)

    paragraph = await db.transact(work)
    assert seen["loop"] is not caller
    assert seen["thread"] == WRITE_LOOP_THREAD
    assert (paragraph.id, paragraph.word_count, paragraph.content) == (1, 5, "Written on the writer's loop.")
    assert await paragraphs(db) == 1


async def test_an_error_rolls_back_everything_and_reaches_the_caller_as_it_is(db: Database) -> None:
    async def half_then_fail(session: AsyncSession) -> None:
        await corpus_service.create_paragraph(session, "Stored, then rolled back.", Source.USER)
        await corpus_service.create_paragraph(session, "   ", Source.USER)  # no words: NoWords

    with pytest.raises(corpus_service.NoWords):
        await db.transact(half_then_fail)
    assert await paragraphs(db) == 0
    if db.dialect == "sqlite":
        async with asyncio.timeout(GUARD_S), SqliteWriteLock(Path(str(db.engine.url.database))).held():
            pass  # the lock file was let go


async def stuck_transaction(db: Database) -> asyncio.Task[None]:
    """A transaction that has written a paragraph and waits for ever on the writer's loop (only a
    cancellation ends it), and the caller's task awaiting it."""
    inside = threading.Event()
    never = asyncio.Event()

    async def stuck(session: AsyncSession) -> None:
        await corpus_service.create_paragraph(session, "Never committed.", Source.USER)
        inside.set()
        await never.wait()

    caller = asyncio.create_task(db.transact(stuck))
    await asyncio.wait_for(asyncio.to_thread(inside.wait, GUARD_S), GUARD_S)
    return caller


async def test_a_cancelled_caller_leaves_nothing_half_written(db: Database) -> None:
    caller = await stuck_transaction(db)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait_for(db.transact(lambda session: session.execute(text("SELECT 1"))), GUARD_S)
    assert await paragraphs(db) == 0


async def test_closing_under_a_transaction_rolls_it_back_and_lets_go_of_the_lock(db: Database) -> None:
    """A background job's write can be under way when the process shuts down: `close` cancels it (its
    caller sees the cancellation), nothing of it stays, and SQLite's lock file is free for the next
    writer (a loop stopped under it kept the lock for good: the suite hung once, every later writer
    of the file waiting)."""
    caller = await stuck_transaction(db)
    assert db.write_loop is not None
    await asyncio.wait_for(db.write_loop.close(), GUARD_S)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(caller, GUARD_S)
    async with asyncio.timeout(GUARD_S), db.write() as session:  # takes the lock file on SQLite
        await session.execute(text("SELECT 1"))
    assert await paragraphs(db) == 0


async def test_dispose_stops_the_writer_and_a_later_transaction_starts_it_again(db: Database) -> None:
    def writers() -> int:
        return sum(thread.name == WRITE_LOOP_THREAD for thread in threading.enumerate())

    assert db.write_loop is not None
    await db.write_loop.close()  # the session's database may have started it already
    before = writers()
    await db.transact(lambda session: corpus_service.create_paragraph(session, "One.", Source.USER))
    assert writers() == before + 1
    assert db.write_loop is not None
    await db.write_loop.close()
    assert writers() == before
    await db.transact(lambda session: corpus_service.create_paragraph(session, "Two.", Source.USER))
    assert await paragraphs(db) == 2
