"""Bulk intake for `paragraphs import` and `paragraphs seed`: batches, one transaction each.

Tokenizing and preparing the next batches (words, index entries, the batch's word-count change:
corpus/batches.py, in child processes: corpus/preparers.py) overlaps with writing the previous one
(corpus/bulk.py; the database, another process or thread): a reader task groups the contents into
batches and hands them to the preparers, while the writer takes them back in order and awaits the
database. Both run in one `asyncio.TaskGroup`, so neither can outlive the other's failure; the
preparer processes end with the intake, whichever way it ends. A failure while
reading (not UTF-8, a read error) travels through the queue behind the batches read before it: every
complete batch before the failure is stored, nothing of the batch it happened in, and the command
stops with `IngestStopped` carrying the counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import text as sql_text

from paragraphs.corpus import batches, bulk
from paragraphs.corpus import preparers as preparer_processes
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
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
    words = batches.storable_words(content)
    return None if words is None else corpus_service.Tokenized(content, words)


@dataclass
class _OrmBatch:
    """A batch for the ORM path: tokenized here."""

    storable: list[corpus_service.Tokenized]
    skipped: int


class _AtThePreparers:
    """A batch handed to the preparer processes: the writer receives it from them, in turn."""


_AT_THE_PREPARERS = _AtThePreparers()
_Item = _OrmBatch | _AtThePreparers | Exception | None  # a batch, the reader's failure, or the end


async def _read(
    contents: Iterable[str],
    batch_size: int,
    preparers: preparer_processes.Preparers | None,
    queue: asyncio.Queue[_Item],
) -> None:
    """Group `contents` into batches: to the preparer processes, or (`preparers` None, the ORM path)
    tokenized here."""
    pending: list[str] = []
    storable: list[corpus_service.Tokenized] = []
    skipped = 0
    try:
        for n, content in enumerate(contents):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the writer take the database's answer
            if preparers is not None:
                pending.append(content)
            elif (item := tokenized(content)) is None:
                skipped += 1
            else:
                storable.append(item)
            if len(pending) + len(storable) + skipped >= batch_size:
                await _hand_over(pending, storable, skipped, preparers, queue)
                pending, storable, skipped = [], [], 0
        if pending or storable or skipped:
            await _hand_over(pending, storable, skipped, preparers, queue)
    except Exception as exc:  # noqa: BLE001 - handed to the writer, which raises it after the batches before it
        await queue.put(exc)
        return
    await queue.put(None)


async def _hand_over(
    pending: list[str],
    storable: list[corpus_service.Tokenized],
    skipped: int,
    preparers: preparer_processes.Preparers | None,
    queue: asyncio.Queue[_Item],
) -> None:
    # The queue's bound keeps the reader at most BATCHES_AHEAD (+1, being sent) batches ahead of the writer.
    if preparers is None:
        await queue.put(_OrmBatch(storable, skipped))
    else:
        await preparers.send(pending)  # a failure here reaches the writer instead of this batch
        await queue.put(_AT_THE_PREPARERS)


async def _write(
    db: Database,
    queue: asyncio.Queue[_Item],
    preparers: preparer_processes.Preparers | None,
    source: Source,
    report: IngestReport,
    progress: Callable[[IngestReport], None] | None,
) -> None:
    while (item := await queue.get()) is not None:
        if isinstance(item, Exception):
            raise item
        if isinstance(item, _OrmBatch):
            stored, skipped = len(item.storable), item.skipped
            if item.storable:
                async with db.write() as session:
                    await corpus_service.create_paragraphs(session, item.storable, source)
        else:
            assert preparers is not None  # noqa: S101 - only the bulk path hands batches to them
            prepared = await preparers.receive()
            stored, skipped = len(prepared), prepared.skipped
            if prepared:
                async with db.write() as session:
                    await bulk.store(session, prepared, source)
        report.stored += stored
        report.skipped += skipped
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
    preparer_count: int | None = None,
) -> IngestReport:
    """Store every storable paragraph, `batch_size` per transaction; count the others as skipped.

    Raises `IngestStopped` when reading or writing fails; whole batches before the failure stay stored.
    Batches are prepared by `preparer_count` child processes (default `preparers.default_processes()`).
    `orm_path` tokenizes here and writes batches with `service.create_paragraphs` instead of
    `bulk.store`: the same rows, slower; the reference of `bench/ingest.py`."""
    report = IngestReport()
    queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=BATCHES_AHEAD)
    try:
        async with AsyncExitStack() as stack:
            preparers = None
            if not orm_path:
                preparers = await stack.enter_async_context(preparer_processes.started(db.dialect, preparer_count))
            async with asyncio.TaskGroup() as group:
                group.create_task(_read(contents, batch_size, preparers, queue))
                group.create_task(_write(db, queue, preparers, source, report, progress))
    except ExceptionGroup as failed:
        # The first failure is the cause; the TaskGroup cancelled the other side (not collected).
        cause = failed.exceptions[0]
        raise IngestStopped(cause if isinstance(cause, Exception) else failed, report) from cause
    if report.stored >= ANALYZE_AFTER:
        await refresh_statistics(db)
    return report


# PostgreSQL's full-text index takes new entries into a pending list (GIN's fastupdate) and merges
# them into its trees once the list passes gin_pending_list_limit (4 MB); every search scans the
# whole list until then. A bulk load leaves up to 4 MB there (385 pages at 1,000,000 paragraphs: a
# rare word's page read 1,565 buffers, 1,180 once merged), and only VACUUM (not ANALYZE) merges it.
_MERGE_PENDING_ENTRIES = sql_text("SELECT gin_clean_pending_list('ix_paragraph_search_vector')")


async def refresh_statistics(db: Database) -> None:
    """After a bulk load: fresh planner statistics (without them PostgreSQL walks a GIN bitmap of
    90,000 rows for a common word's first page, 27 ms, instead of the primary key backwards, 0.8 ms)
    and, on PostgreSQL, the index's pending entries merged (above)."""
    async with db.write_engine.connect() as connection:
        if db.dialect == "postgresql":
            await connection.execute(_MERGE_PENDING_ENTRIES)
        await connection.execute(sql_text("ANALYZE"))
        await connection.commit()
