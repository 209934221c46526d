"""Search: validated query -> cache (keyed by corpus version) -> full-text index -> paragraphs."""

from __future__ import annotations

import hashlib
import json

import structlog
from sqlalchemy import select

from paragraphs import cache as cache_module
from paragraphs.cache import Cache
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph
from paragraphs.search.engines import index_for
from paragraphs.search.highlight import highlights
from paragraphs.search.index import Query
from paragraphs.search.schemas import SearchHit, SearchRequest, SearchResponse

log = structlog.get_logger(__name__)

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
    async with db.read() as session:
        # One snapshot for the version, the count and the page (SQLite read transactions are snapshots).
        if db.dialect == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        version = await corpus_service.corpus_version(session)
        key = cache_key(version, request, query.words)
        cached = await cache.get(key)
        cache_module.record("search", cached is not None)
        if cached is not None:
            log.info("search", cache="HIT", words=query.words, operator=query.operator)
            return SearchResponse.model_validate_json(cached), True
        index = index_for(session)
        total = await index.count(session, query)
        ids = await index.page(session, query, request.limit, request.offset) if request.offset < total else []
        rows = {row.id: row for row in await session.scalars(select(Paragraph).where(Paragraph.id.in_(ids)))}
    hits = [_hit(rows[pid], query, request.highlight) for pid in ids if pid in rows]
    response = SearchResponse(paragraphs=hits, total_count=total)
    await cache.set(key, response.model_dump_json().encode(), RESULT_TTL_S)
    log.info("search", cache="MISS", words=query.words, operator=query.operator, total=total)
    return response, False


def _hit(paragraph: Paragraph, query: Query, with_highlights: bool) -> SearchHit:
    hit = SearchHit.model_validate(paragraph)
    if with_highlights:
        hit.highlights = highlights(paragraph.content, set(query.words))
    return hit
