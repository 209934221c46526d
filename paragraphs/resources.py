"""What a running process holds: built once in the lifespan (or by a CLI command), closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from paragraphs.cache import Cache, MemoryCache
from paragraphs.corpus.sources.base import ParagraphSource
from paragraphs.corpus.sources.metaphorpsum import MAX_BODY_BYTES, MetaphorpsumSource
from paragraphs.corpus.sources.offline import OfflineSource
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.http import Upstream, new_client
from paragraphs.settings import Settings


class SchemaBehind(RuntimeError):
    pass


@dataclass
class Resources:
    settings: Settings
    db: Database
    http_client: httpx.AsyncClient
    source: ParagraphSource
    cache: Cache


def paragraph_source(settings: Settings, client: httpx.AsyncClient) -> ParagraphSource:
    if settings.offline:
        return OfflineSource()
    upstream = Upstream(
        name="metaphorpsum",
        client=client,
        timeout_s=settings.upstream_timeout,
        max_body_bytes=MAX_BODY_BYTES,
    )
    return MetaphorpsumSource(upstream, settings.metaphorpsum_url)


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
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    db = create_database(settings.database_url, pool_size=settings.database_pool_size)
    client = new_client()
    cache = MemoryCache()
    try:
        await prepare_schema(db)
        yield Resources(
            settings=settings,
            db=db,
            http_client=client,
            source=paragraph_source(settings, client),
            cache=cache,
        )
    finally:
        await cache.close()
        await client.aclose()
        await db.dispose()
