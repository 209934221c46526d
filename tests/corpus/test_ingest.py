"""Bulk intake (`paragraphs/corpus/ingest.py`) in-process, on SQLite and PostgreSQL: failures on either side."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import cast

import pytest
from sqlalchemy import func, select, text

from paragraphs.corpus import ingest
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph, Source


async def paragraph_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)


class TestDecodedLines:
    def test_lines_and_the_exact_offset_of_a_bad_byte(self) -> None:
        data = "\ufeffé one\n\ntwo\n".encode() + b"thr\xffee\n"
        lines = ingest.decoded_lines(io.BytesIO(data), "in.txt")
        assert [next(lines), next(lines), next(lines)] == ["é one\n", "\n", "two\n"]
        bad_at = data.index(b"\xff")
        with pytest.raises(ingest.UnreadableInput, match=rf"in\.txt: not UTF-8 text at byte {bad_at} "):
            next(lines)

    def test_paragraphs_are_runs_of_lines_between_blank_lines(self) -> None:
        lines = ["a\r\n", "b\n", "\n", "  \n", "c"]
        assert list(ingest.split_paragraphs(lines)) == ["a\nb", "c"]


class TestStoreAllFailures:
    async def test_a_reading_failure_keeps_the_whole_batches_before_it(self, db: Database) -> None:
        def contents() -> Iterator[str]:
            for n in range(25):
                yield f"paragraph {n}"
            raise ingest.UnreadableInput("in.txt: broken")

        with pytest.raises(ingest.IngestStopped, match=r"in\.txt: broken") as stopped:
            await ingest.store_all(db, contents(), Source.IMPORT, batch_size=10)
        assert stopped.value.report.stored == 20
        assert await paragraph_count(db) == 20

    async def test_a_writing_failure_stops_the_reader_instead_of_hanging(self, db: Database) -> None:
        read = 0

        def contents() -> Iterator[str]:
            nonlocal read
            for n in range(10_000):
                read += 1
                yield f"paragraph {n}"

        # A source the table's CHECK constraint refuses: the first batch's transaction fails.
        with pytest.raises(ingest.IngestStopped) as stopped:
            await ingest.store_all(db, contents(), cast(Source, "bogus"), batch_size=10)
        assert stopped.value.report.stored == 0
        assert await paragraph_count(db) == 0
        assert read < 10_000  # the reader was cancelled, not left to read (or wait) forever


async def test_after_a_bulk_load_the_index_has_no_pending_entries(postgres_db: Database) -> None:
    """New entries wait in GIN's pending list, which every search scans, until merged (ingest.py)."""
    await ingest.store_all(postgres_db, [f"pending entry {n}" for n in range(50)], Source.IMPORT, batch_size=10)
    await ingest.refresh_statistics(postgres_db)
    async with postgres_db.write_engine.connect() as connection:
        merged_now = await connection.scalar(text("SELECT gin_clean_pending_list('ix_paragraph_search_vector')"))
        await connection.commit()
    assert merged_now == 0  # nothing was left to merge
