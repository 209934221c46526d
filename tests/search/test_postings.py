"""Posting bitmaps (paragraphs/search/postings.py): the table always equals a rebuild from the full-text
index, and counts and newest-first pages read from it equal GIN's, across block boundaries."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.search import postgres, postings
from paragraphs.search.index import Document, Query
from paragraphs.search.postgres import PostgresIndex

POSTINGS = PostgresIndex(posting_row_cost=0)
GIN = PostgresIndex(posting_row_cost=math.inf)

STORED = "SELECT word, block, CAST(bits AS text) FROM word_posting WHERE bit_count(bits) > 0 ORDER BY 1, 2"
REBUILT = f"SELECT word, block, CAST(bits AS text) FROM ({postings.FROM_INDEX}) AS r ORDER BY 1, 2"  # noqa: S608


async def stored_postings(db: Database) -> list[tuple[Any, ...]]:
    """word_posting's rows with a bit set (rows whose bits all went to 0 stay, by design)."""
    async with db.read() as session:
        return [tuple(row) for row in await session.execute(text(STORED))]


async def rebuilt_postings(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as session:
        return [tuple(row) for row in await session.execute(text(REBUILT))]


@contextmanager
def posting_row_cost(cost: float) -> Iterator[None]:
    """The global PostgreSQL index (what the search service uses) with another cost rule, restored after:
    0 uses the posting bitmaps for every count and page, math.inf never."""
    index = postgres.INDEX
    saved, index.posting_row_cost = index.posting_row_cost, cost
    try:
        yield
    finally:
        index.posting_row_cost = saved


async def next_id_is(db: Database, paragraph_id: int) -> None:
    async with db.write() as session:
        await session.execute(
            text("SELECT setval(pg_get_serial_sequence('paragraph', 'id'), :id, false)"), {"id": paragraph_id}
        )


@asynccontextmanager
async def search_connection(db: Database) -> AsyncIterator[Any]:
    async with db.search_engine.connect() as connection:
        yield await connection.execution_options(isolation_level="REPEATABLE READ")


class TestBits:
    def test_paragraph_i_of_a_block_is_bit_i_from_the_left(self) -> None:
        assert postings.bits_bytes(1) == b"\x80" + bytes(511)
        assert postings.bits_bytes(1 << 4095) == bytes(511) + b"\x01"
        assert postings.bits_bytes((1 << 9) | (1 << 10)) == b"\x00\x60" + bytes(510)

    def test_batch_masks_equal_the_masks_of_each_paragraph(self) -> None:
        """Runs of consecutive ids, gaps and block crossings: the shifted batch bits are each paragraph's."""
        rng = random.Random(7)
        ids = [1, 2, 4094, 4095, 4096, 4097, 4100, 8190, 8191, 8192, 12288, 40000]
        words = [rng.sample(["a", "b", "c", "d", "e"], rng.randint(1, 5)) for _ in ids]
        bits: dict[str, int] = {}
        for k, held in enumerate(words):
            for word in held:
                bits[word] = bits.get(word, 0) | (1 << k)
        expected = postings.masks_of([Document(pid, held) for pid, held in zip(ids, words, strict=True)])
        assert postings.batch_masks(ids, bits) == expected
        in_block_1 = [pid - 4096 for pid, held in zip(ids, words, strict=True) if 4096 <= pid < 8192 and "a" in held]
        assert expected[("a", 1)] == sum(1 << bit for bit in in_block_1)


@pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
class TestAgainstTheIndex:
    async def test_writes_across_blocks_keep_the_table_equal_to_a_rebuild(self, db: Database) -> None:
        await next_id_is(db, 4093)
        async with db.write() as session:
            ids = await corpus_service.create_paragraphs(
                session,
                [corpus_service.Tokenized(f"hot w{i} cold", ["hot", f"w{i}", "cold"]) for i in range(6)],
                Source.IMPORT,
            )
        assert ids == list(range(4093, 4099))
        async with db.write() as session:
            await corpus_service.update_paragraph(
                session, await corpus_service.lock_paragraph(session, 4095), "hot new"
            )
            await corpus_service.delete_paragraph(session, await corpus_service.lock_paragraph(session, 4096))
        stored = await stored_postings(db)
        assert stored == await rebuilt_postings(db)
        blocks = {(word, block) for word, block, _ in stored}
        assert {("hot", 0), ("hot", 1), ("cold", 0), ("cold", 1), ("new", 0), ("w4", 1)} <= blocks
        assert ("w2", 0) not in blocks  # 4095's old words are cleared, its row kept with no bit set
        async with db.read() as session:
            assert await session.scalar(text("SELECT bit_count(bits) FROM word_posting WHERE word = 'w2'")) == 0

    async def test_counts_and_deep_pages_at_block_boundaries_equal_gin(self, db: Database) -> None:
        """Paragraphs on both sides of ids 4096, 8192 and 12288; every page of every size from every offset."""
        for first in (4090, 8188, 12286):
            await next_id_is(db, first)
            async with db.write() as session:
                await corpus_service.create_paragraphs(
                    session,
                    [
                        corpus_service.Tokenized("", ["common", *(["even"] if i % 2 == 0 else []), f"n{first}"])
                        for i in range(10)
                    ],
                    Source.IMPORT,
                )
        async with db.write() as session:  # one more, alone in block 4
            await corpus_service.create_paragraphs(
                session, [corpus_service.Tokenized("", ["even", "lonely"])], Source.IMPORT
            )
        queries = [
            Query(("common",), "and"),
            Query(("even",), "or"),
            Query(("common", "even"), "and"),
            Query(("even", "n4090"), "or"),
            Query(("common", "n8188"), "and"),
            Query(("lonely", "n12286"), "or"),
        ]
        async with search_connection(db) as connection:
            common = await GIN.page(connection, queries[0], 100, 0, 30)
            assert {4095, 4096, 8191, 8192, 12287, 12288} <= set(common)
            for query in queries:
                matches = await GIN.count(connection, query)
                assert await POSTINGS.count(connection, query, dict.fromkeys(query.words, 1)) == matches
                everything = await GIN.page(connection, query, matches, 0, matches)
                assert len(everything) == matches
                assert everything == sorted(everything, reverse=True)
                for limit in (1, 3, 7, 100):
                    for offset in range(matches + 1):
                        expected = everything[offset : offset + limit]
                        assert await POSTINGS.page(connection, query, limit, offset, matches) == expected, (
                            query,
                            limit,
                            offset,
                        )

    async def test_concurrent_writers_of_the_same_hot_words(self, db: Database) -> None:
        """Writers creating, updating and deleting paragraphs that share words, on both sides of a block
        boundary, at once: no deadlock (PostgreSQL would abort one), and the bitmaps stay exact."""
        hot = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
        await next_id_is(db, 4080)

        async def writer(seed: int) -> None:
            rng = random.Random(seed)
            mine: list[int] = []
            for _ in range(12):
                async with db.write() as session:
                    if len(mine) < 2 or rng.random() < 0.4:
                        paragraph = await corpus_service.create_paragraph(
                            session, " ".join(rng.sample(hot, 4)), Source.USER
                        )
                        mine.append(paragraph.id)
                    elif rng.random() < 0.7:
                        paragraph = await corpus_service.lock_paragraph(session, rng.choice(mine))
                        await corpus_service.update_paragraph(session, paragraph, " ".join(rng.sample(hot, 3)))
                    else:
                        target = mine.pop(rng.randrange(len(mine)))
                        await corpus_service.delete_paragraph(
                            session, await corpus_service.lock_paragraph(session, target)
                        )

        await asyncio.gather(*(writer(seed) for seed in range(4)))
        stored = await stored_postings(db)
        assert stored == await rebuilt_postings(db)
        assert stored
        assert {block for _, block, _ in stored} <= {0, 1}
