"""Property: on both engines, after any creates, updates and deletes, search equals a brute-force scan.

Each Hypothesis example runs on its own event loop (`asyncio.run`) with its own engine on the run's
migrated database, so examples are independent of pytest's loop.
"""

from __future__ import annotations

import asyncio
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paragraphs import text
from paragraphs.cache import MemoryCache
from paragraphs.db.engine import Database, create_database
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest
from tests import databases
from tests.corpus_ops import Op, apply, ops, queries
from tests.search import test_postings


def brute_force(live: dict[int, str], words: list[str], operator: str) -> list[int]:
    wanted = {text.single_word(word) for word in words}
    test = all if operator == "and" else any
    return sorted(
        (pid for pid, content in live.items() if test(w in set(text.words(content)) for w in wanted)), reverse=True
    )


async def scenario(
    url: str, operations: list[Op], question: list[tuple[list[str], str]], first_id: int | None = None
) -> None:
    """With `first_id` (PostgreSQL), ids start there: near 4096, the corpus straddles two posting blocks,
    and after the writes the posting bitmaps must equal a rebuild from the index."""
    db = create_database(url, pool_size=2)
    try:
        await databases.empty_tables(db)
        if first_id is not None:
            await test_postings.next_id_is(db, first_id)
        live = await apply(db, operations)
        if first_id is not None:
            assert await test_postings.stored_postings(db) == await test_postings.rebuilt_postings(db)
        cache = MemoryCache()
        for words, operator in question:
            expected = brute_force(live, words, operator)
            seen: list[int] = []
            for offset in range(0, len(expected) + 1, 3):  # pages of 3 cover every match exactly once
                request = SearchRequest(words=words, operator=operator, limit=3, offset=offset)  # type: ignore[arg-type]
                response, _ = await search_service.search(db, cache, request)
                assert response.total_count == len(expected)
                seen.extend(hit.id for hit in response.paragraphs)
            assert seen == expected, (words, operator)
    finally:
        await db.dispose()


async def cached_scenario(url: str, operations: list[Op], question: list[tuple[list[str], str]]) -> None:
    """One cache through every write: after each, every question answers as a brute-force scan,
    contents included, whether the answer came from the cache or not (a key that outlived a write
    to one of its words, or came back after a word was emptied and stored again, would fail it)."""
    db = create_database(url, pool_size=2)
    try:
        await databases.empty_tables(db)
        cache = MemoryCache()
        live: dict[int, str] = {}
        for op in operations:
            await apply(db, [op], live)
            for words, operator in question:
                expected = brute_force(live, words, operator)
                request = SearchRequest(words=words, operator=operator, limit=100)  # type: ignore[arg-type]
                for _ in range(2):  # the second is a hit
                    response, _ = await search_service.search(db, cache, request)
                    assert response.total_count == len(expected), (op, words, operator)
                    assert [(hit.id, hit.content) for hit in response.paragraphs] == [
                        (pid, live[pid]) for pid in expected
                    ], (op, words, operator)
    finally:
        await db.dispose()


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class TestSearchEqualsBruteForce:
    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=4))
    def test_sqlite(self, sqlite_db: Database, operations: list[Op], question: list[tuple[list[str], str]]) -> None:
        asyncio.run(scenario(sqlite_db.engine.url.render_as_string(hide_password=False), operations, question))

    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=4))
    def test_postgres(self, postgres_db: Database, operations: list[Op], question: list[tuple[list[str], str]]) -> None:
        asyncio.run(scenario(postgres_db.engine.url.render_as_string(hide_password=False), operations, question))

    # The posting bitmaps (search/postings.py) for every count and page, then GIN for every one: the
    # default cost rule picks either on so small a corpus, so each path is forced in turn.
    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=4), first_id=st.sampled_from([1, 4090]))
    def test_postgres_by_posting_bitmaps(
        self, postgres_db: Database, operations: list[Op], question: list[tuple[list[str], str]], first_id: int
    ) -> None:
        with test_postings.posting_row_cost(0):
            asyncio.run(
                scenario(postgres_db.engine.url.render_as_string(hide_password=False), operations, question, first_id)
            )

    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=4))
    def test_postgres_by_gin_only(
        self, postgres_db: Database, operations: list[Op], question: list[tuple[list[str], str]]
    ) -> None:
        with test_postings.posting_row_cost(math.inf):
            asyncio.run(scenario(postgres_db.engine.url.render_as_string(hide_password=False), operations, question))


class TestCachedSearchFollowsEveryWrite:
    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=3))
    def test_sqlite(self, sqlite_db: Database, operations: list[Op], question: list[tuple[list[str], str]]) -> None:
        asyncio.run(cached_scenario(sqlite_db.engine.url.render_as_string(hide_password=False), operations, question))

    @SETTINGS
    @given(operations=ops, question=st.lists(queries, min_size=1, max_size=3))
    def test_postgres(self, postgres_db: Database, operations: list[Op], question: list[tuple[list[str], str]]) -> None:
        asyncio.run(cached_scenario(postgres_db.engine.url.render_as_string(hide_password=False), operations, question))
