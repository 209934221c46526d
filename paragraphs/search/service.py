"""Search: validated query -> cache (keyed by corpus version) -> full-text index -> paragraphs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import structlog
from sqlalchemy import Row, select

from paragraphs import cache as cache_module
from paragraphs.cache import Cache
from paragraphs.db.engine import Database
from paragraphs.db.models import CorpusState, Paragraph
from paragraphs.search.engines import index_for
from paragraphs.search.highlight import highlights
from paragraphs.search.index import Query
from paragraphs.search.schemas import SearchHit, SearchRequest, SearchResponse

log = structlog.get_logger(__name__)

paragraph_table = Paragraph.__table__
PARAGRAPHS = select(paragraph_table)
VERSION = select(CorpusState.version).where(CorpusState.id == 1)

# Entries never go stale (a write changes the version, hence the key); the TTL only frees memory.
RESULT_TTL_S = 600.0


def cache_key(version: int, request: SearchRequest, words: tuple[str, ...]) -> str:
    normal = {
        "words": words,
        "operator": request.operator,
        "order": request.order,
        "limit": request.limit,
        "offset": request.offset,
        "highlight": request.highlight,
    }
    digest = hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:32]
    return cache_module.key("search", version, digest)


async def search(db: Database, cache: Cache, request: SearchRequest) -> tuple[SearchResponse, bool]:
    """The response and whether it came from the cache."""
    query = Query(words=request.normalised_words(), operator=request.operator, order=request.order)
    async with db.search_engine.connect() as connection:
        # One snapshot for the version, the count and the page (SQLite read transactions are snapshots).
        if db.dialect == "postgresql":
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        version = int(await connection.scalar(VERSION) or 0)
        key = cache_key(version, request, query.words)
        cached = await cache.get(key)
        cache_module.record("search", cached is not None)
        if cached is not None:
            log.info("search", cache="HIT", words=query.words, operator=query.operator)
            return SearchResponse.model_validate_json(cached), True
        index = index_for(connection)
        total = await index.count(connection, query)
        ids = (
            await index.page(connection, query, request.limit, request.offset, total) if request.offset < total else []
        )
        rows = {row.id: row for row in await connection.execute(PARAGRAPHS.where(paragraph_table.c.id.in_(ids)))}
    hits = [_hit(rows[pid], query, request.highlight) for pid in ids if pid in rows]
    response = SearchResponse(paragraphs=hits, total_count=total)
    await cache.set(key, response.model_dump_json().encode(), RESULT_TTL_S)
    log.info("search", cache="MISS", words=query.words, operator=query.operator, total=total)
    return response, False


def _hit(paragraph: Row[Any], query: Query, with_highlights: bool) -> SearchHit:
    # Rows from our own table need no validation: constructing skips ~1 ms per page of 100.
    return SearchHit.model_construct(
        id=paragraph.id,
        content=paragraph.content,
        source=paragraph.source,
        word_count=paragraph.word_count,
        created_at=paragraph.created_at,
        highlights=highlights(paragraph.content, set(query.words)) if with_highlights else None,
    )
