"""One writer per paragraph: simultaneous PUTs and DELETEs of one paragraph take turns, on both engines."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs import text
from paragraphs.db.engine import Database
from paragraphs.dictionary import counts
from tests.dictionary.test_counts import recount, stored_counts

N = 10


class TestSimultaneousWritesOfOneParagraph:
    async def test_of_n_deletes_exactly_one_is_204_and_words_are_subtracted_once(
        self, client: httpx.AsyncClient, db: Database
    ) -> None:
        await client.post("/paragraphs", json={"content": "meadow stays here"})
        victim = (await client.post("/paragraphs", json={"content": "meadow goes away meadow"})).json()["id"]

        responses = await asyncio.gather(*(client.delete(f"/paragraphs/{victim}") for _ in range(N)))

        assert sorted(r.status_code for r in responses) == [204] + [404] * (N - 1)
        assert await stored_counts(db) == await recount(db) == {"meadow": 1, "stays": 1, "here": 1}

    async def test_n_puts_leave_the_counts_of_exactly_one_of_them(
        self, client: httpx.AsyncClient, db: Database
    ) -> None:
        target = (await client.post("/paragraphs", json={"content": "old words here"})).json()["id"]
        contents = [f"new text number{i} with shared words" for i in range(N)]

        responses = await asyncio.gather(*(client.put(f"/paragraphs/{target}", json={"content": c}) for c in contents))

        assert [r.status_code for r in responses] == [200] * N
        final = (await client.get(f"/paragraphs/{target}")).json()["content"]
        assert final in contents
        assert await stored_counts(db) == await recount(db) == dict(Counter(text.words(final)))

    async def test_puts_racing_deletes_are_200_or_404_and_never_500(
        self, client: httpx.AsyncClient, db: Database
    ) -> None:
        target = (await client.post("/paragraphs", json={"content": "racing words"})).json()["id"]
        requests = [
            client.delete(f"/paragraphs/{target}")
            if i % 2
            else client.put(f"/paragraphs/{target}", json={"content": f"w{i}"})
            for i in range(N)
        ]

        statuses = Counter(r.status_code for r in await asyncio.gather(*requests))

        assert statuses[204] == 1
        assert set(statuses) <= {200, 204, 404}
        assert (await client.get(f"/paragraphs/{target}")).status_code == 404
        assert await stored_counts(db) == await recount(db) == {}


@pytest.mark.postgres
class TestDeadlocksAreRetried:
    async def test_two_writers_locking_in_opposite_orders_both_commit(self, postgres_db: Database) -> None:
        """A deadlock forced on purpose (rows locked in opposite orders): PostgreSQL aborts one of the
        two transactions; `transact` runs it again, and both writes land."""
        db = postgres_db
        async with db.write() as session:
            await session.execute(sql("DELETE FROM word_count WHERE word IN ('deadlock_a', 'deadlock_b')"))
            await session.execute(
                sql("INSERT INTO word_count (word, count) VALUES ('deadlock_a', 0), ('deadlock_b', 0)")
            )
        first_locked, second_locked = asyncio.Event(), asyncio.Event()
        attempts = Counter[str]()

        def writer(
            name: str, rows: tuple[str, str], mine: asyncio.Event, theirs: asyncio.Event
        ) -> Coroutine[Any, Any, None]:
            async def work(session: AsyncSession) -> None:
                attempts[name] += 1
                bump = sql("UPDATE word_count SET count = count + 1 WHERE word = :word")
                await session.execute(bump, {"word": rows[0]})
                mine.set()
                await asyncio.wait_for(theirs.wait(), timeout=30)
                await session.execute(bump, {"word": rows[1]})

            return db.transact(work)

        await asyncio.wait_for(
            asyncio.gather(
                writer("one", ("deadlock_a", "deadlock_b"), first_locked, second_locked),
                writer("two", ("deadlock_b", "deadlock_a"), second_locked, first_locked),
            ),
            timeout=60,
        )

        assert sorted(attempts.values()) == [1, 2]  # one of them deadlocked once and ran again
        async with db.read() as session:
            assert await counts.all_counts(session) == {"deadlock_a": 2, "deadlock_b": 2}
        async with db.write() as session:
            await session.execute(sql("DELETE FROM word_count WHERE word IN ('deadlock_a', 'deadlock_b')"))
