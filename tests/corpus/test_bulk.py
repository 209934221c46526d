"""The bulk write path of import and seed (`paragraphs/corpus/bulk.py`) stores exactly what the ORM path
(`service.create_paragraphs`) stores, on both engines, and a failure in the middle of a batch leaves
nothing of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import func, select, text

from paragraphs.corpus import batches, bulk, ingest
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.sources.offline import OfflineGenerator
from paragraphs.db.engine import Database
from paragraphs.db.models import CorpusState, Paragraph, Source
from paragraphs.search import bulk as search_bulk
from paragraphs.search import tsvector
from paragraphs.search.postgres import tsvector_literal
from tests import databases
from tests.dictionary.test_counts import paragraphs_per_word, recount, stored_counts, stored_paragraph_counts
from tests.search import test_postings

# Texts that exercise the tokenizer's and the index's edge cases: non-ASCII words (sorted by bytes in a
# binary tsvector), decomposed accents, curly apostrophes and possessives, a word past position 16,383
# (clamped) and one occurring more than 256 times (positions capped).
EDGE_CASES = [
    "Café, CAFÉ and cafe\u0301: the zeitgeist’s o'clock don't-stop 42 times; naïve ÆSIR œuvre Ωmega 日本語 ж.",
    "x " * 20_000 + "y",
    " ".join(["fig"] * 300 + ["pad"] * 5),
    "Zoë's ZOË'S zoë's's l'été",
    "one",
]


def contents() -> list[str]:
    return [*OfflineGenerator(7).paragraphs(30, sentences=10), *EDGE_CASES]


def tokenized(values: list[str]) -> list[corpus_service.Tokenized]:
    found = [ingest.tokenized(value) for value in values]
    assert all(item is not None for item in found)
    return [item for item in found if item is not None]


async def store_by_orm(db: Database, values: list[str]) -> list[int]:
    async with db.write() as session:
        return await corpus_service.create_paragraphs(session, tokenized(values), Source.IMPORT)


async def store_in_bulk(db: Database, values: list[str]) -> list[int]:
    async with db.write() as session:
        return await bulk.store(session, batches.prepare(values, db.dialect), Source.IMPORT)


async def index_entries(db: Database) -> list[Any]:
    """Every index entry as the database holds it: PostgreSQL's vectors, SQLite's FTS5 term instances."""
    async with db.read() as session:
        if db.dialect == "postgresql":
            rows = await session.execute(text("SELECT paragraph_id, vector::text FROM paragraph_search ORDER BY 1"))
        else:
            await session.execute(
                text(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances USING fts5vocab(main, paragraph_fts, instance)"
                )
            )
            rows = await session.execute(text('SELECT term, doc, col, "offset" FROM temp.fts_instances ORDER BY 2, 4'))
        return [tuple(row) for row in rows]


async def snapshot(db: Database) -> dict[str, Any]:
    async with db.read() as session:
        paragraphs = (await session.scalars(select(Paragraph).order_by(Paragraph.id))).all()
        version = await session.scalar(select(CorpusState.version))
        raw_created = await session.scalars(text("SELECT CAST(created_at AS TEXT) FROM paragraph"))
        # SQLite keeps the time as text: the same format on both paths (the value differs in time).
        created_format = {value.translate(str.maketrans("0123456789", "9999999999")) for value in raw_created}
    times = [p.created_at for p in paragraphs]
    assert times == sorted(times)  # created_at order is id order
    assert all(p.created_at.tzinfo == UTC for p in paragraphs)
    return {
        "rows": [(p.id, p.content, p.source, p.word_count) for p in paragraphs],
        "created_format": created_format if db.dialect == "sqlite" else None,
        "index": await index_entries(db),
        "counts": await stored_counts(db),
        "paragraph_counts": await stored_paragraph_counts(db),
        "postings": await test_postings.stored_postings(db) if db.dialect == "postgresql" else None,
        "version": version,
    }


class TestBulkStoreEqualsTheOrmPath:
    async def test_rows_index_entries_and_counts_are_the_same(self, db: Database) -> None:
        values = contents()
        orm_ids = await store_by_orm(db, values)
        expected = await snapshot(db)
        assert len(expected["index"]) >= len(values)
        await databases.empty_tables(db)
        bulk_ids = await store_in_bulk(db, values)
        assert bulk_ids == orm_ids == list(range(1, len(values) + 1))
        assert await snapshot(db) == expected
        assert await stored_counts(db) == await recount(db)
        assert await stored_paragraph_counts(db) == paragraphs_per_word(values)

    async def test_ids_follow_the_stored_ones_and_are_never_reused(self, db: Database) -> None:
        async def history(store: Any) -> dict[str, Any]:
            await databases.empty_tables(db)
            await store_by_orm(db, ["first one", "second one", "third one"])
            async with db.write() as session:
                await corpus_service.delete_paragraph(session, await corpus_service.lock_paragraph(session, 3))
            ids = await store(db, ["fourth", "fifth"])
            assert ids == [4, 5]
            return await snapshot(db)

        assert await history(store_in_bulk) == await history(store_by_orm)

    @pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
    async def test_posting_bitmaps_across_blocks_are_the_orm_paths(self, db: Database) -> None:
        """A batch whose ids straddle two blocks: the same bitmaps, equal to a rebuild from the index."""
        values = contents()
        await test_postings.next_id_is(db, 4080)
        await store_by_orm(db, values)
        expected = await test_postings.stored_postings(db)
        assert {block for _, block, _ in expected} == {0, 1}
        await databases.empty_tables(db)
        await test_postings.next_id_is(db, 4080)
        await store_in_bulk(db, values)
        assert await test_postings.stored_postings(db) == expected == await test_postings.rebuilt_postings(db)

    async def test_search_finds_the_bulk_stored_paragraphs(self, db: Database) -> None:
        values = contents()
        ids = await store_in_bulk(db, values)
        async with db.read() as session:
            if db.dialect == "postgresql":
                query = "SELECT paragraph_id FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery) ORDER BY 1"
                found = await session.scalars(text(query), {"q": "'zoë'"})
            else:
                query = "SELECT rowid FROM paragraph_fts WHERE paragraph_fts MATCH :q ORDER BY 1"
                found = await session.scalars(text(query), {"q": '"zoë"'})
            assert list(found) == [ids[values.index(EDGE_CASES[3])]]


class TestTsvectorBinary:
    def test_lexemes_in_byte_order_with_their_positions(self) -> None:
        binary = tsvector.tsvector_binary(["b", "é", "a", "b"])
        # 3 lexemes; "a" at 3; "b" at 1, 4; "é" (0xc3 0xa9) at 2.
        assert binary == (
            b"\x00\x00\x00\x03"
            + b"a\x00\x00\x01\x00\x03"
            + b"b\x00\x00\x02\x00\x01\x00\x04"
            + b"\xc3\xa9\x00\x00\x01\x00\x02"
        )

    async def test_postgres_reads_the_vector_tsvector_literal_describes(self, postgres_db: Database) -> None:
        await databases.empty_tables(postgres_db)
        word_lists = [value.split() for value in contents()] + [["a", "b", "a"], ["é", "e", "z", "ü"]]
        async with postgres_db.write() as session:
            ids = await session.scalars(
                text(
                    "INSERT INTO paragraph (content, source, word_count, created_at) "
                    "SELECT 'x', 'import', 1, now() FROM generate_series(1, :n) RETURNING id"
                ),
                {"n": len(word_lists)},
            )
            paragraph_ids = sorted(ids)
            driver = (await (await session.connection()).get_raw_connection()).driver_connection
            assert driver is not None
            await search_bulk.copy_vectors(driver, paragraph_ids, [tsvector.tsvector_binary(w) for w in word_lists])
            different = await session.scalar(
                text(
                    "SELECT count(*) FROM paragraph_search s "
                    "JOIN unnest(CAST(:ids AS bigint[]), CAST(:literals AS text[])) AS t (id, literal) ON t.id = s.paragraph_id "
                    "WHERE s.vector <> CAST(t.literal AS tsvector) OR s.vector::text <> CAST(t.literal AS tsvector)::text"
                ),
                {"ids": paragraph_ids, "literals": [tsvector_literal(w) for w in word_lists]},
            )
            assert different == 0
            assert await session.scalar(text("SELECT count(*) FROM paragraph_search")) == len(word_lists)


@asynccontextmanager
async def poisoned_word(db: Database, word: str) -> AsyncIterator[None]:
    """A trigger that fails any write of `word`'s count: a fault in the middle of a batch's writes,
    after its paragraph rows and index entries went in."""
    if db.dialect == "postgresql":
        create = [
            "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN IF NEW.word = '{word}' THEN RAISE EXCEPTION 'poisoned word'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER test_poison BEFORE INSERT ON word_count FOR EACH ROW EXECUTE FUNCTION test_poison()",
        ]
        drop = ["DROP TRIGGER test_poison ON word_count", "DROP FUNCTION test_poison()"]
    else:
        create = [
            "CREATE TRIGGER test_poison BEFORE INSERT ON word_count "
            f"WHEN NEW.word = '{word}' BEGIN SELECT RAISE(ABORT, 'poisoned word'); END"
        ]
        drop = ["DROP TRIGGER test_poison"]
    async with db.write() as session:
        for statement in create:
            await session.execute(text(statement))
    try:
        yield
    finally:
        async with db.write() as session:
            for statement in drop:
                await session.execute(text(statement))


class TestFailureInTheMiddleOfABatch:
    async def test_leaves_nothing_of_that_batch_and_keeps_the_ones_before(self, db: Database) -> None:
        def values() -> Iterator[str]:
            yield from (f"paragraph number {n}" for n in range(10))
            yield from (f"later paragraph {n}" for n in range(5))
            yield "the poisonous word is here"
            yield from (f"last paragraph {n}" for n in range(4))

        async with poisoned_word(db, "poisonous"):
            with pytest.raises(ingest.IngestStopped, match="poisoned word") as stopped:
                await ingest.store_all(db, values(), Source.IMPORT, batch_size=10)
        assert stopped.value.report.stored == 10
        async with db.read() as session:
            stored = list(await session.scalars(select(Paragraph.content).order_by(Paragraph.id)))
            version = await session.scalar(select(CorpusState.version))
            max_id = await session.scalar(select(func.max(Paragraph.id)))
        assert stored == [f"paragraph number {n}" for n in range(10)]
        assert max_id == 10
        assert version == 1  # one batch, one bump
        assert (
            len(
                {doc for _term, doc, *_rest in await index_entries(db)}
                if db.dialect == "sqlite"
                else await index_entries(db)
            )
            == 10
        )
        assert await stored_counts(db) == await recount(db)
        assert await stored_paragraph_counts(db) == paragraphs_per_word(stored)
