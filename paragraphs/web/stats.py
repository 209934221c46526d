"""The corpus-size line of the words page, cached under the corpus version like /dictionary."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select, text

from paragraphs import cache as cache_module
from paragraphs.db.models import Paragraph
from paragraphs.dictionary import counts
from paragraphs.resources import Resources

# Exact under the version key; the TTL only frees memory.
SIZE_TTL_S = 3600.0
# SQLite: count(*) of `paragraph` walks every row of the table (~0.7 s at 100,000 paragraphs of ~550
# words); the search index's contentless FTS5 table holds one row per paragraph too and counts in ~50 ms.
# PostgreSQL counts the paragraph table itself (its heap rows are small: the text is TOASTed).
SQLITE_PARAGRAPHS = text("SELECT count(*) FROM paragraph_fts")


class CorpusSize(BaseModel):
    paragraphs: int
    words: int
    distinct_words: int


async def corpus_size(resources: Resources) -> CorpusSize:
    """Paragraphs stored, word occurrences and distinct words. The word figures come from the
    `word_count` table (a few thousand rows), never from a scan of the paragraphs."""
    version = await resources.corpus_version.current()
    key = cache_module.key("web", version, "size")
    cached = await resources.cache.get(key)
    cache_module.record("web_size", cached is not None)
    if cached is not None:
        return CorpusSize.model_validate_json(cached)
    async with resources.db.read() as session:
        count_all = (
            SQLITE_PARAGRAPHS if resources.db.dialect == "sqlite" else select(func.count()).select_from(Paragraph)
        )
        paragraphs = await session.scalar(count_all)
        words, distinct = await counts.distinct_words(session)
    size = CorpusSize(paragraphs=paragraphs or 0, words=words, distinct_words=distinct)
    await resources.cache.set(key, size.model_dump_json().encode(), SIZE_TTL_S)
    return size
