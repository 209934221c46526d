"""Writers of several processes queue on the lock file: one holds it, the next gets it when it is let go,
and a writer that gives up waiting leaves nothing held. Two `SqliteWriteLock`s on one database stand for
two processes (flock belongs to the open file, so they exclude each other as processes would)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from paragraphs.db.engine import create_database
from paragraphs.db.sqlite_write_lock import SqliteWriteLock

GUARD_S = 30  # only a bound on a hang; nothing here is timed


async def test_a_second_writer_waits_for_the_first_and_then_goes(tmp_path: Path) -> None:
    first, second = SqliteWriteLock(tmp_path / "p.db"), SqliteWriteLock(tmp_path / "p.db")
    order: list[str] = []
    release, first_in = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with first.held():
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def follow() -> None:
        async with second.held():
            order.append("second in")

    holder = asyncio.create_task(hold())
    await first_in.wait()
    follower = asyncio.create_task(follow())
    for _ in range(20):  # the follower is waiting in flock, not past it
        await asyncio.sleep(0.01)
    assert order == ["first in"]
    assert not follower.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, follower), GUARD_S)
    assert order == ["first in", "first out", "second in"]


async def test_a_writer_that_gives_up_waiting_leaves_nothing_held(tmp_path: Path) -> None:
    first, second, third = (SqliteWriteLock(tmp_path / "p.db") for _ in range(3))
    release = asyncio.Event()
    holding = asyncio.Event()

    async def hold() -> None:
        async with first.held():
            holding.set()
            await release.wait()

    async def wait_on(lock: SqliteWriteLock) -> None:
        async with lock.held():
            pass

    holder = asyncio.create_task(hold())
    await holding.wait()
    quitter = asyncio.create_task(wait_on(second))
    await asyncio.sleep(0.05)
    quitter.cancel()
    await asyncio.gather(quitter, return_exceptions=True)
    release.set()
    await holder
    # The abandoned wait got the lock after its caller left and let it go: a new writer is not blocked.
    await asyncio.wait_for(wait_on(third), GUARD_S)
    await asyncio.wait_for(wait_on(second), GUARD_S)


async def test_database_writes_of_two_processes_take_turns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    one, two = create_database(url), create_database(url)
    try:
        async with one.write() as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))

        async def add(db_index: int, n: int) -> None:
            db = (one, two)[db_index]
            async with db.write() as session:
                await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

        await asyncio.wait_for(asyncio.gather(*(add(n % 2, n) for n in range(100))), GUARD_S)
        async with one.read() as session:
            assert (await session.execute(text("SELECT count(*), sum(n) FROM t"))).one() == (100, sum(range(100)))
        assert one.sqlite_write_lock is not None
        assert one.sqlite_write_lock.path.exists()
    finally:
        await one.dispose()
        await two.dispose()
