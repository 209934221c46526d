"""Bulk intake for `paragraphs import` and `paragraphs seed`: batches, one transaction each.

Tokenizing and preparing the next batch (Python, this process: words, index entries, the batch's
word-count change; paragraphs/corpus/bulk.py) overlaps with writing the previous one (the database,
another process or thread): a reader task fills a small queue while the writer awaits the database.
Both run in one `asyncio.TaskGroup`, so neither can outlive the other's failure. A failure while
reading (not UTF-8, a read error) travels through the queue behind the batches read before it: every
complete batch before the failure is stored, nothing of the batch it happened in, and the command
stops with `IngestStopped` carrying the counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import text as sql_text

from paragraphs import text
from paragraphs.corpus import bulk
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.schemas import MAX_CONTENT_CHARS
from paragraphs.db.engine import Database, Dialect
from paragraphs.db.models import Source

DEFAULT_BATCH_SIZE = 1000
BATCHES_AHEAD = 2
ANALYZE_AFTER = 10_000
YIELD_EVERY = 20


@dataclass
class IngestReport:
    stored: int = 0
    skipped: int = 0


class UnreadableInput(Exception):
    """The input is not text we can read: names the input and the byte offset."""


class IngestStopped(Exception):
    """Intake stopped by `cause`; `report` counts what was stored before (whole batches only)."""

    def __init__(self, cause: Exception, report: IngestReport) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.report = report


def decoded_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """The lines of a UTF-8 byte stream (a leading BOM dropped); `UnreadableInput` at the first bad byte.

    Lines are decoded one at a time: a newline byte never occurs inside a UTF-8 sequence, so every line
    but a truncated last one ends on a character boundary, and the offset of a bad byte is exact."""
    offset = 0
    try:
        for raw in stream:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                if exc.reason == "unexpected end of data":
                    message = f"{name}: ends in the middle of a UTF-8 character at byte {position} (cut short?)"
                else:
                    message = (
                        f"{name}: not UTF-8 text at byte {position} (0x{raw[exc.start]:02x}); convert it first, "
                        "e.g. `iconv -f LATIN1 -t UTF-8`"
                    )
                raise UnreadableInput(message) from exc
            yield line.removeprefix("\ufeff") if offset == 0 else line
            offset += len(raw)
    except OSError as exc:
        raise UnreadableInput(f"{name}: read failed at byte {offset}: {exc.strerror or exc}") from exc


def split_paragraphs(lines: Iterable[str]) -> Iterator[str]:
    """Paragraphs of a text: runs of lines separated by blank lines, stripped."""
    paragraph: list[str] = []
    for line in lines:
        if line.strip():
            paragraph.append(line.rstrip("\r\n"))
        elif paragraph:
            yield "\n".join(paragraph).strip()
            paragraph = []
    if paragraph:
        yield "\n".join(paragraph).strip()


def tokenized(content: str) -> corpus_service.Tokenized | None:
    """The paragraph ready to store, or None when the API would refuse it (too long, no word, NUL)."""
    if not 0 < len(content) <= MAX_CONTENT_CHARS or "\x00" in content:
        return None
    words = text.words(content)
    return corpus_service.Tokenized(content, words) if words else None


@dataclass
class _Batch:
    storable: list[corpus_service.Tokenized]
    prepared: bulk.PreparedBatch | None  # None: written by the ORM path
    skipped: int


_Item = _Batch | Exception | None  # a batch, the reader's failure, or the end


async def _read(contents: Iterable[str], batch_size: int, dialect: Dialect | None, queue: asyncio.Queue[_Item]) -> None:
    """Tokenize and prepare batches (`dialect` None: for the ORM path, tokenized only)."""
    storable: list[corpus_service.Tokenized] = []
    skipped = 0
    builder = None if dialect is None else bulk.BatchBuilder(dialect)
    try:
        for n, content in enumerate(contents):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the writer take the database's answer
            item = tokenized(content)
            if item is None:
                skipped += 1
            else:
                storable.append(item)
                if builder is not None:
                    builder.add(item)
            if len(storable) + skipped >= batch_size:
                await queue.put(_Batch(storable, None if builder is None else builder.build(), skipped))
                storable, skipped = [], 0
                builder = None if dialect is None else bulk.BatchBuilder(dialect)
        if storable or skipped:
            await queue.put(_Batch(storable, None if builder is None else builder.build(), skipped))
    except Exception as exc:  # noqa: BLE001 - handed to the writer, which raises it after the batches before it
        await queue.put(exc)
        return
    await queue.put(None)


async def _write(
    db: Database,
    queue: asyncio.Queue[_Item],
    source: Source,
    report: IngestReport,
    progress: Callable[[IngestReport], None] | None,
) -> None:
    while (batch := await queue.get()) is not None:
        if isinstance(batch, Exception):
            raise batch
        if batch.storable:
            async with db.write() as session:
                if batch.prepared is None:
                    await corpus_service.create_paragraphs(session, batch.storable, source)
                else:
                    await bulk.store(session, batch.prepared, source)
        report.stored += len(batch.storable)
        report.skipped += batch.skipped
        if progress is not None:
            progress(report)


async def store_all(
    db: Database,
    contents: Iterable[str],
    source: Source,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[IngestReport], None] | None = None,
    orm_path: bool = False,
) -> IngestReport:
    """Store every storable paragraph, `batch_size` per transaction; count the others as skipped.

    Raises `IngestStopped` when reading or writing fails; whole batches before the failure stay stored.
    `orm_path` writes batches with `service.create_paragraphs` instead of `bulk.store`: the same rows,
    slower; the reference of `bench/ingest.py`."""
    report = IngestReport()
    queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=BATCHES_AHEAD)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_read(contents, batch_size, None if orm_path else db.dialect, queue))
            group.create_task(_write(db, queue, source, report, progress))
    except ExceptionGroup as failed:
        # The first failure is the cause; the TaskGroup cancelled the other side (not collected).
        cause = failed.exceptions[0]
        raise IngestStopped(cause if isinstance(cause, Exception) else failed, report) from cause
    if report.stored >= ANALYZE_AFTER:
        await refresh_statistics(db)
    return report


async def refresh_statistics(db: Database) -> None:
    """Fresh planner statistics after a bulk load: without them PostgreSQL walks a GIN bitmap of 90,000
    rows for a common word's first page (27 ms) instead of the primary key backwards (0.8 ms)."""
    async with db.write_engine.connect() as connection:
        await connection.execute(sql_text("ANALYZE"))
        await connection.commit()
