"""Migrations that fill a new column from the data already stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection
from sqlalchemy import text as sql_text

from paragraphs import text
from paragraphs.corpus import service as corpus_service
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Source
from paragraphs.dictionary import counts
from tests import databases
from tests.search import test_postings
from tests.services import POSTGRES_URL, missing, reachable

CONTENTS = [
    "The cat saw the other cat.",
    "A dog, the dog's bone, and don't.",
    "Zeitgeist's cat; the end.",
    "nothing shared here",
]


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = databases.sqlite_url(tmp_path)
    else:
        if not reachable(POSTGRES_URL, 5432):
            missing("PostgreSQL", POSTGRES_URL)
        url = await databases.create_postgres_database(POSTGRES_URL)
    db = create_database(url, pool_size=2)
    try:
        await migrate.upgrade(db.write_engine)
        yield db
    finally:
        await db.dispose()
        if request.param == "postgres":
            await databases.drop_postgres_database(POSTGRES_URL, url)


def _downgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        command.downgrade(migrate.alembic_config(connection), revision)

    return run


class TestWordParagraphs:
    async def test_backfill_counts_the_paragraphs_of_every_word(self, fresh_db: Database) -> None:
        async with fresh_db.write() as session:
            for content in CONTENTS:
                await corpus_service.create_paragraph(session, content, Source.USER)
        async with fresh_db.write_engine.begin() as connection:
            await connection.run_sync(_downgrade_to("0004_definition"))
        await migrate.upgrade(fresh_db.write_engine)

        async with fresh_db.read() as session:
            stored = await counts.all_paragraph_counts(session)
        expected = Counter(word for content in CONTENTS for word in set(text.words(content)))
        assert stored == dict(expected)
        assert stored["cat"] == 2  # twice in one paragraph, once in another


class TestWordPosting:
    async def test_backfill_equals_the_bitmaps_the_writes_kept(self, fresh_db: Database) -> None:
        """PostgreSQL: the migration's bitmaps from the index are the ones add/replace/remove maintained
        (ids on both sides of a block boundary); SQLite: no table."""
        if fresh_db.dialect == "postgresql":
            await test_postings.next_id_is(fresh_db, 4094)
        async with fresh_db.write() as session:
            for content in CONTENTS:
                await corpus_service.create_paragraph(session, content, Source.USER)
            await corpus_service.update_paragraph(
                session,
                await corpus_service.lock_paragraph(session, 4095 if fresh_db.dialect == "postgresql" else 2),
                "a new dog",
            )
        if fresh_db.dialect == "sqlite":
            async with fresh_db.read() as session:
                assert (
                    await session.scalar(sql_text("SELECT count(*) FROM sqlite_master WHERE name = 'word_posting'"))
                    == 0
                )
            return
        maintained = await test_postings.stored_postings(fresh_db)
        assert {block for _, block, _ in maintained} == {0, 1}
        async with fresh_db.write_engine.begin() as connection:
            await connection.run_sync(_downgrade_to("0005_word_paragraphs"))
        await migrate.upgrade(fresh_db.write_engine)
        assert await test_postings.stored_postings(fresh_db) == maintained
