"""The top words read for /dictionary and the warming job equal the counts' own query, on every path."""

from __future__ import annotations

from paragraphs.corpus.service import create_paragraph, delete_paragraph, lock_paragraph
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.dictionary import counts, top


async def test_the_top_words_equal_the_counts_query(db: Database) -> None:
    async with db.write() as session:
        for content in ("b b a c", "c c c d", "a zed"):
            await create_paragraph(session, content, Source.USER)
        gone = await create_paragraph(session, "emptied emptied emptied emptied", Source.USER)
    async with db.write() as session:
        await delete_paragraph(session, await lock_paragraph(session, gone.id))  # its word's row stays, count 0
    for limit in (1, 3, 100):
        async with db.read() as session:
            expected = await counts.top_words(session, limit)
        assert await top.top_words(db, limit) == expected
    assert await top.top_words(db, 100) == [("c", 4), ("a", 2), ("b", 2), ("d", 1), ("zed", 1)]


async def test_a_read_while_a_write_is_under_way_sees_the_last_commit(db: Database) -> None:
    async with db.write() as session:
        await create_paragraph(session, "held words", Source.USER)
        # Not committed yet (on SQLite this transaction holds the write lock): nothing to see.
        assert await top.top_words(db, 10) == []
    assert await top.top_words(db, 10) == [("held", 1), ("words", 1)]
