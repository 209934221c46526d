"""Definitions in levels (cache -> `definition` table -> provider) and the top words of /dictionary.

- One provider request in flight per word: in this process an asyncio task per word that every caller
  awaits; across processes a cache lock (`SET NX` on Redis) that others wait behind, reading the cache.
- Missing words are fetched in parallel under a deadline; words still unknown at the deadline are
  answered with no definitions, and their fetches go on, so the next request has them.
- "Found" is kept long, "not found" shorter; a provider failure is never kept.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs import cache as cache_module
from paragraphs import http
from paragraphs.cache import Cache
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db.engine import Database
from paragraphs.db.models import Definition, utcnow
from paragraphs.dictionary import top as top_module
from paragraphs.dictionary.providers.base import Provider
from paragraphs.dictionary.schemas import DictionaryResponse, DictionaryWord, Entry, Lookup
from paragraphs.flights import Flights

log = structlog.get_logger(__name__)

FOUND_TTL = timedelta(days=30)
NOT_FOUND_TTL = timedelta(days=1)
CACHE_FOUND_TTL_S = 24 * 3600.0
CACHE_NOT_FOUND_TTL_S = 3600.0
LOCK_TTL_S = 30.0
# The version in the key keeps it exact; the TTL lets a definition refreshed in the table show up.
RESPONSE_TTL_S = 3600.0
WAIT_POLL_S = 0.05


# Feature `definition` (not `dictionary`, the responses'), so cache hits are counted per kind of value;
# never `paragraphs:definition:<word>`: a word such as `42` would read as a version (cache.is_versioned).
def definition_key(word: str) -> str:
    return cache_module.key("definition", "word", word)


def _lock_key(word: str) -> str:
    return cache_module.key("definition", "lock", word)


@dataclass
class DefinitionStore:
    db: Database
    cache: Cache
    provider: Provider
    # Asked, without keeping the answer, for a word the provider failed on: a stop-gap, not a fact.
    stopgap: Provider | None = None
    _fetches: Flights[str, Lookup] = field(default_factory=lambda: Flights("define"))
    # GET /dictionary's misses: one answer built per (corpus version, limit), every concurrent asker
    # served by it (after a write, each process's askers all miss at once).
    answers: Flights[str, bytes] = field(default_factory=lambda: Flights("dictionary"))
    # The top words the warming job last found all defined, and when (tasks.py).
    warmed: tuple[frozenset[str], float] = (frozenset(), -math.inf)

    async def define(self, words: Sequence[str], deadline_s: float) -> dict[str, Lookup]:
        """What is known of each word after at most `deadline_s`; unknown words are left out."""
        known = await self._from_cache(words)
        missing = [word for word in words if word not in known]
        if missing:
            stored = await self._from_table(missing)
            cache_module.record_level("definition", "table", len(stored))
            known.update(stored)
            for lookup in stored.values():
                await self._cache(lookup)
            missing = [word for word in missing if word not in known]
        if missing:
            tasks = {word: self._fetches.task(word, functools.partial(self._fetch, word)) for word in missing}
            done, _pending = await asyncio.wait(tasks.values(), timeout=deadline_s)
            for word, task in tasks.items():
                # A fetch cancelled under us (shutdown) is unknown, like one past the deadline:
                # exception() of a cancelled task would raise CancelledError into this request.
                if task in done and not task.cancelled() and task.exception() is None:
                    known[word] = task.result()
        return known

    async def _from_cache(self, words: Sequence[str]) -> dict[str, Lookup]:
        found: dict[str, Lookup] = {}
        for word, raw in zip(words, await self.cache.get_many([definition_key(word) for word in words]), strict=True):
            cache_module.record("definition", raw is not None)
            if raw is not None:
                found[word] = Lookup.model_validate_json(raw)
        return found

    async def _from_table(self, words: Sequence[str]) -> dict[str, Lookup]:
        now = utcnow()
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Definition).where(Definition.word.in_(words), Definition.expires_at > now)
            )
            return {
                row.word: Lookup(word=row.word, entry=Entry.model_validate(row.entry) if row.entry else None)
                for row in rows
            }

    async def _cache(self, lookup: Lookup) -> None:
        ttl = CACHE_FOUND_TTL_S if lookup.entry else CACHE_NOT_FOUND_TTL_S
        await self.cache.set(definition_key(lookup.word), lookup.model_dump_json().encode(), ttl)

    async def _fetch(self, word: str) -> Lookup:
        """Ask the provider once for `word` across processes, store the answer, return it."""
        waited_until = time.monotonic() + LOCK_TTL_S
        while not await self.cache.add(_lock_key(word), b"1", LOCK_TTL_S) and time.monotonic() < waited_until:
            # Another process is asking; its answer lands in the cache (or its lock expires).
            await asyncio.sleep(WAIT_POLL_S)
            if (known := await self._known(word)) is not None:
                return known
        try:
            # Checked again under the lock: a caller that missed the cache and the table just before
            # an earlier flight stored the word must not ask the provider a second time.
            if (known := await self._known(word)) is not None:
                return known
            try:
                entry = await self.provider.lookup(word)
            except http.UpstreamFailure as exc:
                log.warning("definition lookup failed", word=word, upstream=exc.upstream, reason=exc.reason)
                if self.stopgap is not None and (entry := await self.stopgap.lookup(word)) is not None:
                    cache_module.record_level("definition", "provider")
                    return Lookup(word=word, entry=entry)
                raise
            cache_module.record_level("definition", "provider")
            lookup = Lookup(word=word, entry=entry)
            await self._store(lookup)
            await self._cache(lookup)
            return lookup
        finally:
            await self.cache.delete(_lock_key(word))

    async def _known(self, word: str) -> Lookup | None:
        """What the cache or the table already holds of `word`."""
        raw = await self.cache.get(definition_key(word))
        if raw is not None:
            return Lookup.model_validate_json(raw)
        stored = (await self._from_table([word])).get(word)
        cache_module.record_level("definition", "table", stored is not None)
        return stored

    async def _store(self, lookup: Lookup) -> None:
        now = utcnow()
        values = {
            "word": lookup.word,
            "entry": lookup.entry.model_dump(mode="json") if lookup.entry else None,
            "fetched_at": now,
            "expires_at": now + (FOUND_TTL if lookup.entry else NOT_FOUND_TTL),
        }
        insert = sqlite.insert if self.db.dialect == "sqlite" else postgresql.insert
        statement = insert(Definition).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[Definition.word],
            set_={key: statement.excluded[key] for key in ("entry", "fetched_at", "expires_at")},
        )

        async def upsert(session: AsyncSession) -> None:
            await session.execute(statement)

        # On the write loop, as API writes are (db/write_loop.py): on SQLite this holds the one write
        # lock of every process, and on a busy API loop each of the warming job's 100 stores held it
        # until the loop got round to it (writes of both processes took ~1 s for 6 s after start).
        await self.db.transact(upsert)

    async def close(self) -> None:
        await self.answers.close()
        await self._fetches.close()


def response_key(version: int, limit: int) -> str:
    return cache_module.key("dictionary", version, limit)


async def cached_answer(cache: Cache, corpus: CorpusVersion, limit: int) -> bytes | None:
    """GET /dictionary's stored body under the corpus version this process knows, or None. A hit is
    counted; a miss is not: whoever answers it counts it."""
    return await _cached(cache, response_key(await corpus.current(), limit))


async def _cached(cache: Cache, key: str) -> bytes | None:
    cached = await cache.get(key)
    if cached is not None:
        cache_module.record("dictionary", True)
    return cached


async def dictionary_json(
    db: Database, store: DefinitionStore, corpus: CorpusVersion, limit: int, deadline_s: float
) -> bytes:
    """GET /dictionary's body. A complete answer is cached under the corpus version, which every
    write moves on: in steady state a cache read, with the version known in-process (corpus/version.py)."""
    key = response_key(await corpus.current(), limit)
    if (cached := await _cached(store.cache, key)) is not None:
        return cached
    cache_module.record("dictionary", False)

    async def build() -> bytes:
        response, complete = await top_words_with_definitions(db, store, limit, deadline_s)
        body = response.model_dump_json().encode()
        if complete:
            await store.cache.set(key, body, RESPONSE_TTL_S)
        return body

    return await store.answers.run(key, build)


async def top_words_with_definitions(
    db: Database, store: DefinitionStore, limit: int, deadline_s: float
) -> tuple[DictionaryResponse, bool]:
    """The `limit` most frequent words (count desc, word asc), defined as far as the deadline allows,
    and whether every word's definitions are known (found or not found)."""
    started = time.monotonic()
    top = await top_module.top_words(db, limit)
    known = await store.define([word for word, _ in top], deadline_s)
    words = []
    for word, count in top:
        entry = known[word].entry if word in known else None
        words.append(
            DictionaryWord(
                word=word,
                count=count,
                definitions=entry.definitions if entry else [],
                phonetic=entry.phonetic if entry else None,
                source=entry.source if entry else None,
                meanings=entry.meanings if entry else [],
            )
        )
    unknown = [word for word, _ in top if word not in known]
    if unknown:
        log.info(
            "dictionary answered before definitions arrived",
            words=unknown,
            ms=round((time.monotonic() - started) * 1000),
        )
    return DictionaryResponse(words=words), not unknown
