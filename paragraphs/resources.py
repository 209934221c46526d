"""What a running process holds: built once in the lifespan, a CLI command or a worker, closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from paragraphs.cache import Cache, LayeredCache, MemoryCache, RedisCache
from paragraphs.corpus.sources.base import ParagraphSource
from paragraphs.corpus.sources.metaphorpsum import MAX_BODY_BYTES, MetaphorpsumSource
from paragraphs.corpus.sources.offline import OfflineSource
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.dictionary import tasks as dictionary_tasks
from paragraphs.dictionary.providers import dictionaryapi
from paragraphs.dictionary.providers.base import Provider
from paragraphs.dictionary.providers.chain import ProviderChain
from paragraphs.dictionary.providers.counted import CountedProvider
from paragraphs.dictionary.providers.offline import OfflineDictionary
from paragraphs.dictionary.service import DefinitionStore
from paragraphs.http import Upstream, new_client
from paragraphs.jobs import CeleryJobs, InProcessJobs, JobQueue, celery_app
from paragraphs.ratelimit import RateLimiter
from paragraphs.settings import Settings

# Definitions are asked for while a person waits: a short budget (docs/upstreams.md: it fails slowly when it fails).
DICTIONARY_TIMEOUT_S = 5.0


class SchemaBehind(RuntimeError):
    pass


@dataclass
class Resources:
    settings: Settings
    db: Database
    http_client: httpx.AsyncClient
    source: ParagraphSource
    cache: Cache
    definitions: DefinitionStore
    jobs: JobQueue
    corpus_version: CorpusVersion
    ratelimit: RateLimiter

    async def after_write(self) -> None:
        """Call after a paragraph write has committed: this process reads the new version next, and
        definitions of the new top words get warmed."""
        self.corpus_version.stale()
        await self.jobs.enqueue(dictionary_tasks.WARM_TOP_WORDS)


def paragraph_source(settings: Settings, client: httpx.AsyncClient) -> ParagraphSource:
    if settings.offline:
        return OfflineSource()
    upstream = Upstream(
        name="metaphorpsum", client=client, timeout_s=settings.upstream_timeout, max_body_bytes=MAX_BODY_BYTES
    )
    return MetaphorpsumSource(upstream, settings.metaphorpsum_url)


def definition_provider(settings: Settings, client: httpx.AsyncClient) -> tuple[Provider, Provider | None]:
    """The provider chain, and the stop-gap asked when the online provider fails."""
    offline = CountedProvider(OfflineDictionary())
    if settings.offline:
        return offline, None
    upstream = Upstream(
        name="dictionaryapi",
        client=client,
        timeout_s=min(settings.upstream_timeout, DICTIONARY_TIMEOUT_S),
        max_body_bytes=dictionaryapi.MAX_BODY_BYTES,
    )
    online = CountedProvider(dictionaryapi.DictionaryApi(upstream, settings.dictionary_url))
    if not settings.dictionary_fallback:
        return online, None
    return ProviderChain([online, offline]), offline


async def prepare_schema(db: Database) -> None:
    """SQLite (embedded) migrates itself; PostgreSQL must have been migrated by `paragraphs migrate`."""
    if db.dialect == "sqlite":
        await migrate.upgrade(db.write_engine)
    elif not await migrate.is_up_to_date(db.engine):
        current = ", ".join(sorted(await migrate.current_revisions(db.engine))) or "empty"
        raise SchemaBehind(
            f"the database schema is not up to date (at: {current}; "
            f"expected: {', '.join(sorted(migrate.head_revisions()))}); run `paragraphs migrate` first"
        )


@asynccontextmanager
async def open_resources(settings: Settings, *, in_worker: bool = False) -> AsyncIterator[Resources]:
    """Everything a process needs. In a Celery worker (`in_worker`), jobs run where they are."""
    async with AsyncExitStack() as stack:
        db = create_database(
            settings.database_url, pool_size=settings.database_pool_size, search_timeout_s=settings.search_timeout_s
        )
        stack.push_async_callback(db.dispose)
        client = new_client()
        stack.push_async_callback(client.aclose)
        cache: Cache = (
            LayeredCache(RedisCache(settings.redis_url), MemoryCache(max_bytes=settings.memory_cache_max_bytes))
            if settings.redis_url
            else MemoryCache(max_bytes=settings.memory_cache_max_bytes)
        )
        stack.push_async_callback(cache.close)
        await prepare_schema(db)
        provider, stopgap = definition_provider(settings, client)
        definitions = DefinitionStore(db=db, cache=cache, provider=provider, stopgap=stopgap)
        stack.push_async_callback(definitions.close)
        resources: Resources
        jobs: JobQueue = (
            CeleryJobs(celery_app(settings), worker_silence_s=settings.worker_silence_s)
            if settings.broker_url and not in_worker
            else InProcessJobs(lambda: resources)
        )
        stack.push_async_callback(jobs.close)
        corpus_version = CorpusVersion(db)
        if not in_worker:
            corpus_version.start()
        stack.push_async_callback(corpus_version.close)
        ratelimit = RateLimiter(settings)
        stack.push_async_callback(ratelimit.close)
        resources = Resources(
            settings=settings,
            db=db,
            http_client=client,
            source=paragraph_source(settings, client),
            cache=cache,
            definitions=definitions,
            jobs=jobs,
            corpus_version=corpus_version,
            ratelimit=ratelimit,
        )
        yield resources
