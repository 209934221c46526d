"""Word counts equal a recount from scratch after any writes, concurrent ones included, on both engines."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from paragraphs import text
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.version import VERSION
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Paragraph, Source
from paragraphs.dictionary import counts
from tests import databases
from tests.corpus_ops import Op, apply, ops


async def recount(db: Database) -> dict[str, int]:
    async with db.read() as session:
        contents = await session.scalars(select(Paragraph.content))
        return dict(Counter(word for content in contents for word in text.words(content)))


async def stored_counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        return await counts.all_counts(session)


async def stored_paragraph_counts(db: Database) -> dict[str, int]:
    async with db.read() as session:
        return await counts.all_paragraph_counts(session)


def paragraphs_per_word(contents: list[str]) -> dict[str, int]:
    return dict(Counter(word for content in contents for word in set(text.words(content))))


async def scenario(url: str, operations: list[Op]) -> None:
    db = create_database(url, pool_size=2)
    try:
        await databases.empty_tables(db)
        live = await apply(db, operations)
        expected = Counter(word for content in live.values() for word in text.words(content))
        assert await stored_counts(db) == dict(expected) == await recount(db)
        assert await stored_paragraph_counts(db) == paragraphs_per_word(list(live.values()))
        async with db.read() as session:
            top = await counts.top_words(session, 5)
        assert top == sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:5]
    finally:
        await db.dispose()


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class TestCountsEqualARecount:
    @SETTINGS
    @given(operations=ops)
    def test_sqlite(self, sqlite_db: Database, operations: list[Op]) -> None:
        asyncio.run(scenario(sqlite_db.engine.url.render_as_string(hide_password=False), operations))

    @SETTINGS
    @given(operations=ops)
    def test_postgres(self, postgres_db: Database, operations: list[Op]) -> None:
        asyncio.run(scenario(postgres_db.engine.url.render_as_string(hide_password=False), operations))


class TestConcurrentWriters:
    async def test_8_writers_x_50_paragraphs_lose_nothing_and_never_deadlock(self, db: Database) -> None:
        """Every writer shares the hot words (`the`, `a`) and has words of its own."""

        async def writer(n: int) -> None:
            for i in range(50):
                async with db.write() as session:
                    content = f"The cat and a dog of writer{n} saw the {i} birds; the end, writer{n}."
                    paragraph = await corpus_service.create_paragraph(session, content, Source.USER)
                if i % 10 == 9:  # some updates and deletes too
                    async with db.write() as session:
                        paragraph = await corpus_service.lock_paragraph(session, paragraph.id)
                        if i % 20 == 19:
                            await corpus_service.delete_paragraph(session, paragraph)
                        else:
                            await corpus_service.update_paragraph(session, paragraph, f"the new text {n}")

        await asyncio.wait_for(asyncio.gather(*(writer(n) for n in range(8))), timeout=120)
        assert await stored_counts(db) == await recount(db)
        async with db.read() as session:
            contents = list(await session.scalars(select(Paragraph.content)))
        assert await stored_paragraph_counts(db) == paragraphs_per_word(contents)
        assert (await stored_counts(db))["the"] == 8 * (
            45 * 3 + 3 * 1
        )  # per writer: 45 kept (3 each), 3 updated (1), 2 deleted


class TestDelta:
    def test_adds_and_subtracts_and_drops_zeros(self) -> None:
        change = counts.delta(added=[["a", "b", "a"]], removed=[["b", "c"]])
        assert change.occurrences == Counter({"a": 2, "c": -1})
        assert change.paragraphs == Counter({"a": 1, "c": -1})

    def test_counts_each_paragraph_once_per_word(self) -> None:
        change = counts.delta(added=[["a", "a", "b"], ["a"]])
        assert change.occurrences == Counter({"a": 3, "b": 1})
        assert change.paragraphs == Counter({"a": 2, "b": 1})

    def test_an_update_keeping_a_word_leaves_its_paragraphs(self) -> None:
        change = counts.delta(added=[["a", "a", "c"]], removed=[["a", "b"]])
        assert change.occurrences == Counter({"a": 1, "b": -1, "c": 1})
        assert change.paragraphs == Counter({"b": -1, "c": 1})
        assert change.touched == {"a", "b", "c"}

    def test_an_update_keeping_every_word_still_touches_them(self) -> None:
        change = counts.delta(added=[["a", "b"]], removed=[["b", "a"]])
        assert not change.occurrences
        assert not change.paragraphs
        assert change.touched == {"a", "b"}
        assert change


async def states(db: Database, *words: str) -> counts.WordStates:
    async with db.read() as session:
        return await counts.word_states(await session.connection(), words)


class TestWordChanges:
    """`changes` (the search cache's per-word version) moves on every write touching the word, and
    never goes back: the row of a word no paragraph holds any more stays, out of every count."""

    async def test_every_write_touching_a_word_moves_it_once_and_no_other(self, db: Database) -> None:
        async with db.write() as session:
            paragraph = await corpus_service.create_paragraph(session, "Kept words, here.", Source.USER)
            await corpus_service.create_paragraph(session, "other", Source.USER)
        assert (await states(db, "here", "kept", "other", "never")).changes == (1, 1, 1, 0)
        async with db.write() as session:  # the same words, other punctuation: no count moves
            locked = await corpus_service.lock_paragraph(session, paragraph.id)
            await corpus_service.update_paragraph(session, locked, "kept WORDS here!")
        found = await states(db, "here", "kept", "other", "words")
        assert found.changes == (2, 2, 1, 2)
        assert found.paragraphs == {"here": 1, "kept": 1, "other": 1, "words": 1}

    async def test_an_emptied_word_keeps_its_row_out_of_the_counts(self, db: Database) -> None:
        async with db.write() as session:
            paragraph = await corpus_service.create_paragraph(session, "phoenix rises", Source.USER)
            await corpus_service.create_paragraph(session, "rises", Source.USER)
        async with db.write() as session:
            await corpus_service.delete_paragraph(session, await corpus_service.lock_paragraph(session, paragraph.id))
        assert (await states(db, "phoenix")) == counts.WordStates(paragraphs={"phoenix": 0}, changes=(2,))
        async with db.read() as session:
            assert await counts.all_counts(session) == {"rises": 1}
            assert await counts.all_paragraph_counts(session) == {"rises": 1}
            assert await counts.top_words(session, 10) == [("rises", 1)]
            assert await counts.distinct_words(session) == (1, 1)
        async with db.write() as session:
            await corpus_service.create_paragraph(session, "phoenix again", Source.USER)
        assert (await states(db, "phoenix")).changes == (3,)


async def test_the_version_and_the_word_states_in_one_read_are_what_each_read_says(db: Database) -> None:
    """A search miss reads both in one statement (search/service.py): the same version and states as
    the corpus version's own read and `word_states`, with no word known, some, or all."""
    async with db.write() as session:
        await corpus_service.create_paragraph(session, "Kept words, here.", Source.USER)
        await corpus_service.create_paragraph(session, "kept again", Source.USER)
    expected = {"never": 0, "again": 1, "kept": 2, "here": 1, "words": 1}
    for words in (("never",), ("again", "kept", "never"), ("here", "kept", "words")):
        async with db.read() as session:
            connection = await session.connection()
            version, found = await counts.version_and_word_states(connection, words)
            assert version == int(await connection.scalar(VERSION) or 0) == 2
            assert found == await counts.word_states(connection, words)
            assert found.paragraphs == {word: expected[word] for word in words}
