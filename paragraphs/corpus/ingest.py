"""Bulk intake for `paragraphs import` and `paragraphs seed`: batches, one transaction each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

from paragraphs import text
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.schemas import MAX_CONTENT_CHARS
from paragraphs.db.engine import Database
from paragraphs.db.models import Source

DEFAULT_BATCH_SIZE = 1000


@dataclass
class IngestReport:
    stored: int = 0
    skipped: int = 0


def split_paragraphs(stream: TextIO) -> Iterator[str]:
    """Paragraphs of a text stream: runs of lines separated by blank lines, stripped."""
    lines: list[str] = []
    for line in stream:
        if line.strip():
            lines.append(line.rstrip("\r\n"))
        elif lines:
            yield "\n".join(lines).strip()
            lines = []
    if lines:
        yield "\n".join(lines).strip()


def is_storable(content: str) -> bool:
    return 0 < len(content) <= MAX_CONTENT_CHARS and "\x00" not in content and bool(text.words(content))


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


async def store_all(
    db: Database,
    contents: Iterable[str],
    source: Source,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Store every storable paragraph, `batch_size` per transaction; count the others as skipped."""
    report = IngestReport()
    for batch in _batches(contents, batch_size):
        storable = [content for content in batch if is_storable(content)]
        if storable:
            async with db.write() as session:
                await corpus_service.create_paragraphs(session, storable, source)
        report.stored += len(storable)
        report.skipped += len(batch) - len(storable)
        if progress is not None:
            progress(report)
    return report
