"""Search: validated query -> cache (keyed by corpus version) -> full-text index -> paragraphs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from sqlalchemy import ARRAY, BigInteger, Row, Select, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from paragraphs import cache as cache_module
from paragraphs.cache import Cache
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db.engine import DEFAULT_SEARCH_TIMEOUT_S, Database
from paragraphs.db.models import Paragraph
from paragraphs.dictionary import counts as word_counts
from paragraphs.search import sqlite_read
from paragraphs.search.budget import time_budget
from paragraphs.search.engines import index_for
from paragraphs.search.highlight import highlights
from paragraphs.search.index import Query, SearchIndex, counted_from_frequencies
from paragraphs.search.schemas import SearchRequest, SearchResponse

log = structlog.get_logger(__name__)

paragraph_table = Paragraph.__table__
PARAGRAPHS = select(paragraph_table)
# The page's rows. PostgreSQL: `= ANY(array)`, one SQL text whatever the page's length, prepared once
# per connection (`IN (...)` renders and prepares a new statement for each length it meets).
ROWS_BY_ANY = PARAGRAPHS.where(paragraph_table.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
ROWS_BY_IN = PARAGRAPHS.where(paragraph_table.c.id.in_(bindparam("ids", expanding=True)))


def _rows_statement(dialect: str) -> Select[Any]:
    return ROWS_BY_ANY if dialect == "postgresql" else ROWS_BY_IN


DEFAULT_BUDGET_S = DEFAULT_SEARCH_TIMEOUT_S

# Entries never go stale (a write changes the version, hence the key); the TTL only frees memory.
RESULT_TTL_S = 600.0


def cache_key(version: int, request: SearchRequest, words: tuple[str, ...]) -> str:
    return cache_module.key("search", version, request_digest(request, words))


def words_key(changes: tuple[int, ...], digest: str) -> str:
    """The answer's key by its words' versions (`word_count.changes`, counts.py): a search's answer
    depends only on the paragraphs holding one of its words, and every write that touches such a
    paragraph moves that word's version, so the key outlives writes that touch none of them."""
    return cache_module.key("search-words", ".".join(map(str, changes)), digest)


def request_digest(request: SearchRequest, words: tuple[str, ...]) -> str:
    """What identifies a search's answer at one corpus version: its normal form, hashed."""
    normal = {
        "words": words,
        "operator": request.operator,
        "order": request.order,
        "limit": request.limit,
        "offset": request.offset,
        "highlight": request.highlight,
    }
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:32]


async def search(
    db: Database, cache: Cache, request: SearchRequest, budget_s: float = DEFAULT_BUDGET_S
) -> tuple[SearchResponse, bool]:
    """The response and whether it came from the cache; QueryTooExpensive after `budget_s`."""
    body, hit = await search_json(db, cache, request, budget_s)
    return SearchResponse.model_validate_json(body), hit


async def search_json(
    db: Database,
    cache: Cache,
    request: SearchRequest,
    budget_s: float = DEFAULT_BUDGET_S,
    corpus: CorpusVersion | None = None,
) -> tuple[bytes, bool]:
    """The response as the JSON the API sends, and whether it came from the cache.

    A hit is the stored bytes as they are: no parse into models and no serialising again (that
    was most of a cached search's cost over HTTP). Fields that are None are left out, as the route
    declares (`highlights` only with `highlight: true`). With `corpus`, the version this process
    knows (corpus/version.py) is tried first, so a hit needs no database round trip at all.
    QueryTooExpensive after `budget_s`.
    """
    prepared = prepare(request)
    query = prepared.query
    tried = None
    if corpus is not None:
        tried = cache_module.key("search", await corpus.current(), prepared.digest)
        if (cached := await cache.get(tried)) is not None:
            return _cache_hit(cached, query)
    rows: Sequence[Row[Any] | sqlite_read.ParagraphRow]
    if db.sqlite_reader is not None:
        version, states = await sqlite_read.read_versions(db.sqlite_reader, query.words, budget_s)
        if (cached := await _words_hit(cache, cache_key(version, request, query.words), states, prepared)) is not None:
            return _cache_hit(cached, query)
        found = await sqlite_read.search(db.sqlite_reader, query, request.limit, request.offset, budget_s)
        keys = (cache_key(found.version, request, query.words), words_key(found.changes, prepared.digest))
        query, total, rows = found.query, found.total, found.rows
    else:
        read = await _read(db, cache, request, prepared, tried, budget_s)
        if isinstance(read, bytes):
            return _cache_hit(read, query)
        keys, query, total, rows = read
    cache_module.record("search", False)
    words = set(query.words)
    body = response_json([_hit(row, words, request.highlight) for row in rows], total)
    for key in keys:
        await cache.set(key, body, RESULT_TTL_S)
    log.info("search", cache="MISS", words=query.words, operator=query.operator, total=total)
    return body, False


async def _words_hit(
    cache: Cache, version_key: str, states: word_counts.WordStates, prepared: PreparedSearch
) -> bytes | None:
    """The answer stored under the words' versions, if any; kept under `version_key` (the corpus
    version of the same snapshot) too, so the next asker finds it without a database read."""
    cached = await cache.get(words_key(states.changes, prepared.digest))
    if cached is not None:
        await cache.set(version_key, cached, RESULT_TTL_S)
    return cached


@dataclass(frozen=True)
class PreparedSearch:
    """A search request read once: its query and its cache digest (for a caller that sees the same
    request again and again, cached_reads.py)."""

    query: Query
    digest: str


def prepare(request: SearchRequest) -> PreparedSearch:
    query = _query(request)
    return PreparedSearch(query, request_digest(request, query.words))


async def cached_answer(cache: Cache, corpus: CorpusVersion, prepared: PreparedSearch) -> bytes | None:
    """The stored answer under the corpus version this process knows (no database round trip), or
    None. A hit is counted and logged; a miss is not: whoever answers it counts it."""
    cached = await cache.get(cache_module.key("search", await corpus.current(), prepared.digest))
    return None if cached is None else _cache_hit(cached, prepared.query)[0]


def _query(request: SearchRequest) -> Query:
    return Query(words=request.normalised_words(), operator=request.operator, order=request.order)


def _cache_hit(cached: bytes, query: Query) -> tuple[bytes, bool]:
    cache_module.record("search", True)
    log.info("search", cache="HIT", words=query.words, operator=query.operator)
    return cached, True


async def _read(
    db: Database, cache: Cache, request: SearchRequest, prepared: PreparedSearch, tried: str | None, budget_s: float
) -> bytes | tuple[tuple[str, str], Query, int, list[Row[Any]]]:
    """Through SQLAlchemy (PostgreSQL, in-memory SQLite): the cached answer under the version read in
    the query's snapshot, or under its words' versions, if there is one; else the cache keys, the
    query as searched, the count and the page's rows."""
    query = prepared.query
    async with db.search_engine.connect() as connection:
        # One snapshot for the versions, the count and the page (SQLite read transactions are snapshots).
        if db.dialect == "postgresql":
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        version, states = await word_counts.version_and_word_states(connection, query.words)
        key = cache_key(version, request, query.words)
        if key != tried and (cached := await cache.get(key)) is not None:
            return cached
        if (cached := await _words_hit(cache, key, states, prepared)) is not None:
            return cached
        index = index_for(connection)
        async with time_budget(connection, budget_s, db.search_timeout_s):
            query, total = await _count(connection, index, query, states.paragraphs)
            ids = (
                await index.page(connection, query, request.limit, request.offset, total)
                if request.offset < total
                else []
            )
            by_id = {row.id: row for row in await connection.execute(_rows_statement(db.dialect), {"ids": ids})}
    keys = (key, words_key(states.changes, prepared.digest))
    return keys, query, total, [by_id[pid] for pid in ids if pid in by_id]


async def _count(
    connection: AsyncConnection, index: SearchIndex, query: Query, frequencies: dict[str, int]
) -> tuple[Query, int]:
    """The exact number of matches, and the query the index needs for the page: from the word counts
    (`frequencies`) where they tell it (index.counted_from_frequencies), else counted in the full-text index."""
    query, total = counted_from_frequencies(query, frequencies)
    return query, (await index.count(connection, query, frequencies) if total is None else total)


def response_json(hits: list[dict[str, Any]], total: int) -> bytes:
    """SearchResponse's JSON as pydantic writes it (`model_dump_json(exclude_none=True)`), byte for
    byte (tests/search/test_service.py), by orjson: a page of 100 paragraphs (~320 KB) took
    pydantic_core's `to_json` 0.2-0.6 ms, orjson ~0.02 ms. Times are written as pydantic writes an aware
    UTC datetime (`...Z`, a fraction only when it is not 0): orjson's default would be `+00:00`."""
    return orjson.dumps({"paragraphs": hits, "total_count": total}, option=orjson.OPT_UTC_Z)


def _hit(paragraph: Row[Any] | sqlite_read.ParagraphRow, words: set[str], with_highlights: bool) -> dict[str, Any]:
    """A SearchHit as the plain dict its JSON is made from: rows from our own table need no
    validation, and building 100 models cost ~0.4 ms of a 1 ms search (the JSON is the same,
    tests/search/test_service.py)."""
    hit: dict[str, Any] = {
        "id": paragraph.id,
        "content": paragraph.content,
        "source": paragraph.source,
        "word_count": paragraph.word_count,
        "created_at": paragraph.created_at,
    }
    if with_highlights:
        hit["highlights"] = highlights(paragraph.content, words)
    return hit
