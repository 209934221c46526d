"""The paragraph store. Functions take the session first and flush; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs import errors, http, text
from paragraphs.corpus import cursor as paging
from paragraphs.corpus.sources.base import ParagraphSource
from paragraphs.corpus.version import CHANNEL as CORPUS_CHANNEL
from paragraphs.db.models import CorpusState, Paragraph, Source, utcnow
from paragraphs.dictionary import counts as word_counts
from paragraphs.search.engines import index_for
from paragraphs.search.index import Document


class ParagraphNotFound(errors.NotFound):
    def __init__(self, paragraph_id: int) -> None:
        super().__init__(f"paragraph {paragraph_id} does not exist")


class InvalidCursor(errors.AppError):
    status_code = 422


class NoWords(errors.AppError):
    status_code = 422


def encode_cursor(paragraph_id: int) -> str:
    return paging.encode(paragraph_id)


def decode_cursor(cursor: str) -> int:
    try:
        return paging.decode(cursor)
    except ValueError as exc:
        raise InvalidCursor(str(exc)) from None


def _words(content: str) -> list[str]:
    words = text.words(content)
    if not words:
        raise NoWords("content must contain at least one word")
    return words


async def bump_version(session: AsyncSession) -> None:
    """Every write moves the corpus version on, so no cached result outlives it; on PostgreSQL the new
    version is also announced to listening processes when the transaction commits (corpus/version.py)."""
    bump = update(CorpusState).where(CorpusState.id == 1).values(version=CorpusState.version + 1)
    version = await session.scalar(bump.returning(CorpusState.version))
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(CORPUS_CHANNEL, str(version))))


async def fetch_text(source: ParagraphSource) -> str:
    """A paragraph from the configured source, upstream failures translated for the API."""
    try:
        return await source.fetch_paragraph()
    except http.UpstreamTimedOut as exc:
        raise errors.UpstreamTimeout(f"{exc.upstream} did not answer in time: {exc.reason}") from exc
    except http.UpstreamFailure as exc:
        raise errors.UpstreamError(f"{exc.upstream} failed, nothing was stored: {exc.reason}") from exc


async def create_paragraph(session: AsyncSession, content: str, source: Source) -> Paragraph:
    words = _words(content)
    paragraph = Paragraph(content=content, source=source.value, word_count=len(words))
    session.add(paragraph)
    await session.flush()
    await index_for(session).add(session, [Document(paragraph.id, words)])
    await word_counts.apply(session, word_counts.delta(added=[words]))
    await bump_version(session)
    return paragraph


@dataclass(frozen=True)
class Tokenized:
    """A paragraph's text with its words, tokenized once for the row, the index and the counts."""

    content: str
    words: list[str]


async def create_paragraphs(session: AsyncSession, paragraphs: Sequence[Tokenized], source: Source) -> list[int]:
    """Store many paragraphs in one statement; each must hold a word."""
    if not paragraphs:
        return []
    if not all(paragraph.words for paragraph in paragraphs):
        raise NoWords("content must contain at least one word")
    now = utcnow()
    rows = [
        {"content": p.content, "source": source.value, "word_count": len(p.words), "created_at": now}
        for p in paragraphs
    ]
    result = await session.execute(insert(Paragraph).returning(Paragraph.id, sort_by_parameter_order=True), rows)
    ids = [row.id for row in result]
    await index_for(session).add(session, [Document(pid, p.words) for pid, p in zip(ids, paragraphs, strict=True)])
    await word_counts.apply(session, word_counts.delta(added=[p.words for p in paragraphs]))
    await bump_version(session)
    return ids


async def get_paragraph(session: AsyncSession, paragraph_id: int) -> Paragraph:
    paragraph = await session.get(Paragraph, paragraph_id)
    if paragraph is None:
        raise ParagraphNotFound(paragraph_id)
    return paragraph


async def lock_paragraph(session: AsyncSession, paragraph_id: int) -> Paragraph:
    """The paragraph as committed now, its row locked until the transaction ends (PostgreSQL
    `SELECT ... FOR UPDATE`; on SQLite the write transaction already holds the database's one write
    lock). Every PUT and DELETE starts here, so writers of one paragraph take turns, each reading the
    content the previous one left; a paragraph deleted meanwhile is not found."""
    statement = select(Paragraph).where(Paragraph.id == paragraph_id).with_for_update()
    paragraph = await session.scalar(statement.execution_options(populate_existing=True))
    if paragraph is None:
        raise ParagraphNotFound(paragraph_id)
    return paragraph


async def list_paragraphs(session: AsyncSession, limit: int, cursor: str | None) -> tuple[list[Paragraph], str | None]:
    """Newest first (ids only grow), by keyset: `cursor` is the last id of the previous page."""
    query = select(Paragraph).order_by(Paragraph.id.desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(Paragraph.id < decode_cursor(cursor))
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def update_paragraph(session: AsyncSession, paragraph: Paragraph, content: str) -> Paragraph:
    """`paragraph` must come from `lock_paragraph` in this transaction (its old words are subtracted)."""
    old_words, new_words = text.words(paragraph.content), _words(content)
    paragraph.word_count = len(new_words)
    paragraph.content = content
    await session.flush()
    await index_for(session).replace(session, Document(paragraph.id, old_words), Document(paragraph.id, new_words))
    await word_counts.apply(session, word_counts.delta(added=[new_words], removed=[old_words]))
    await bump_version(session)
    return paragraph


async def delete_paragraph(session: AsyncSession, paragraph: Paragraph) -> None:
    """`paragraph` must come from `lock_paragraph` in this transaction."""
    words = text.words(paragraph.content)
    await index_for(session).remove(session, [Document(paragraph.id, words)])
    await word_counts.apply(session, word_counts.delta(removed=[words]))
    await session.execute(delete(Paragraph).where(Paragraph.id == paragraph.id))
    await bump_version(session)
