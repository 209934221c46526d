"""The write path of `paragraphs import` and `paragraphs seed`: a batch in a few bulk statements.

It stores what `service.create_paragraphs` (the ORM path, one paragraph at a time for the index)
stores, row for row: the same ids in the same order, contents, sources, word counts, one
`created_at` per batch, the same index entries, the same word counts and one version bump per batch
(tests/corpus/test_bulk.py compares the two). The work is split in two:
- `batches.prepare` (CPU only, corpus/batches.py): the words, the index entries in the engine's bulk
  form and the batch's word-count change, aggregated once per batch; the intake runs it in child
  processes while the database writes the previous batch (corpus/preparers.py).
- `store`: in the caller's transaction, in the order every writer takes its locks (new paragraph
  rows, their index entries, word counts in word order, the corpus version last):
  PostgreSQL: ids from the sequence, then two COPYs (rows; binary tsvectors) on the transaction's
  own asyncpg connection, one upsert of the posting bitmaps (the batch's bits OR-ed per (word,
  block) in Python, search/postings.py), then one word-count upsert; SQLite: ids from `sqlite_sequence` (the
  transaction holds the write lock), then executemany in C for rows, FTS5 entries and counts.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.batches import PreparedBatch
from paragraphs.db.models import Paragraph, Source, utcnow
from paragraphs.dictionary import counts
from paragraphs.search import bulk as search_bulk
from paragraphs.search import postings

_NEXT_POSTGRES_IDS = text(
    "SELECT array_agg(nextval(pg_get_serial_sequence('paragraph', 'id'))) FROM generate_series(1, :n)"
)
# AUTOINCREMENT hands out one more than the largest id ever used (kept in sqlite_sequence).
_NEXT_SQLITE_ID = text(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'paragraph'), 0), "
    "coalesce((SELECT max(id) FROM paragraph), 0)) + 1"
)
# Texts of ~3 KB are compressed when stored (TOAST); lz4 does it in ~40% of the default pglz's time
# (0.020 against 0.048 s for 1,000 paragraphs, measured), read back the same. For this transaction
# only, and only where the server has lz4 (PostgreSQL 14+ built with it): else nothing changes.
_LZ4_CONTENT = text(
    "DO $$ BEGIN SET LOCAL default_toast_compression = 'lz4'; "
    "EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN NULL; END $$"
)
_INSERT_SQLITE = "INSERT INTO paragraph (id, content, source, word_count, created_at) VALUES (?, ?, ?, ?, ?)"
_COLUMNS = ["id", "content", "source", "word_count", "created_at"]


async def store(session: AsyncSession, batch: PreparedBatch, source: Source) -> list[int]:
    """Store the batch in the session's transaction; returns the new ids, in the batch's order."""
    if not len(batch):
        return []
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        ids = await _store_postgres(connection, batch, source)
    else:
        ids = await _store_sqlite(connection, batch, source)
    await counts.apply(session, counts.Change(occurrences=batch.occurrences, paragraphs=batch.paragraphs))
    await corpus_service.bump_version(session)
    return ids


async def _store_postgres(connection: AsyncConnection, batch: PreparedBatch, source: Source) -> list[int]:
    # Running a statement through SQLAlchemy first also begins the transaction on the asyncpg
    # connection, which the COPYs then join (checked: a COPY outside it would commit on its own).
    ids = sorted(await connection.scalar(_NEXT_POSTGRES_IDS, {"n": len(batch)}))
    await connection.execute(_LZ4_CONTENT)
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError("bulk store: the asyncpg connection is not in the session's transaction")
    now = utcnow()
    rows = zip(ids, batch.contents, [source.value] * len(batch), batch.word_counts, [now] * len(batch), strict=True)
    await driver.copy_records_to_table("paragraph", records=list(rows), columns=_COLUMNS)
    await search_bulk.copy_vectors(driver, ids, batch.vectors)
    await postings.write(connection, postings.batch_masks(ids, batch.postings), "|")
    return ids


async def _store_sqlite(connection: AsyncConnection, batch: PreparedBatch, source: Source) -> list[int]:
    first = int(await connection.scalar(_NEXT_SQLITE_ID) or 1)
    ids = list(range(first, first + len(batch)))
    created_at = _sqlite_created_at(connection)
    rows = zip(
        ids, batch.contents, [source.value] * len(batch), batch.word_counts, [created_at] * len(batch), strict=True
    )
    await connection.exec_driver_sql(_INSERT_SQLITE, list(rows))
    await connection.exec_driver_sql(search_bulk.SQLITE_INSERT, list(zip(ids, batch.fts_texts, strict=True)))
    return ids


def _sqlite_created_at(connection: AsyncConnection) -> object:
    """Now, as SQLAlchemy's column type stores it on SQLite (the same text the ORM path writes)."""
    column_type = Paragraph.__table__.c.created_at.type
    process = column_type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    now = utcnow()
    return process(now) if process is not None else now
