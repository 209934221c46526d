"""Definitions against a local dictionaryapi.dev stand-in: parsing, failures, levels, single flight, deadline."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from paragraphs.cache import Cache, MemoryCache, RedisCache
from paragraphs.corpus.service import create_paragraph
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db.engine import Database
from paragraphs.db.models import Definition, Source
from paragraphs.dictionary.service import DefinitionStore, definition_key, dictionary_json
from paragraphs.http import new_client
from paragraphs.resources import definition_provider
from paragraphs.settings import Settings
from tests.fixtures.fake_dictionary import FakeDictionary, Mode


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    client = new_client()
    yield client
    await client.aclose()


def online_settings(fake: FakeDictionary, **overrides: object) -> Settings:
    return Settings.model_validate({"dictionary_url": fake.url, "upstream_timeout": 1.5, **overrides})


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str | None:
    # A sync fixture: only from one can the async `redis_clean` be requested by name.
    if request.param == "memory":
        return None
    url = request.getfixturevalue("redis_clean")
    assert isinstance(url, str)
    return url


@pytest.fixture
async def cache(cache_url: str | None) -> AsyncIterator[Cache]:
    backend: Cache = RedisCache(cache_url) if cache_url else MemoryCache()
    yield backend
    await backend.close()


def store_for(
    db: Database, cache: Cache, fake: FakeDictionary, client: httpx.AsyncClient, **settings: object
) -> DefinitionStore:
    provider, stopgap = definition_provider(online_settings(fake, **settings), client)
    return DefinitionStore(db=db, cache=cache, provider=provider, stopgap=stopgap)


async def stored_words(db: Database) -> dict[str, bool]:
    async with db.read() as session:
        return {row.word: row.entry is not None for row in await session.scalars(select(Definition))}


class TestDictionaryApiProvider:
    async def test_reads_every_definition_and_the_first_phonetic_text(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        store = store_for(db, MemoryCache(), fake_dictionary, http_client)
        lookup = (await store.define(["hello"], 5))["hello"]
        assert lookup.entry is not None
        assert lookup.entry.source == "dictionaryapi"
        assert lookup.entry.phonetic == "/həˈləʊ/"  # no top-level phonetic: the first phonetics[].text
        assert len(lookup.entry.definitions) == 7
        assert lookup.entry.definitions[0] == 'The word "hello" said as a greeting, or any similar greeting.'
        assert [m.part_of_speech for m in lookup.entry.meanings] == ["noun", "verb", "interjection"]

    async def test_404_falls_back_to_the_offline_dictionary(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        store = store_for(db, MemoryCache(), fake_dictionary, http_client)
        known = await store.define(["is", "zyzzyva"], 5)
        assert known["is"].entry is not None
        assert known["is"].entry.source == "offline"
        assert known["zyzzyva"].entry is not None
        assert known["zyzzyva"].entry.source == "dictionaryapi"
        assert fake_dictionary.requests_for("is") == 1

    async def test_without_fallback_a_404_is_no_definition(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        store = store_for(db, MemoryCache(), fake_dictionary, http_client, dictionary_fallback=False)
        known = await store.define(["is"], 5)
        assert known["is"].entry is None
        assert await stored_words(db) == {"is": False}

    @pytest.mark.parametrize("mode", [Mode.ERROR_500, Mode.ERROR_522, Mode.INVALID_JSON, Mode.RATE_LIMITED, Mode.HANG])
    async def test_failures_are_never_remembered_as_not_found(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient, mode: Mode
    ) -> None:
        fake_dictionary.mode = mode
        store = store_for(db, MemoryCache(), fake_dictionary, http_client)
        started = time.monotonic()
        known = await store.define(["zyzzyva"], 3)
        assert time.monotonic() - started < 6  # bounded by the deadline; generous for a loaded machine
        assert "zyzzyva" not in known
        assert await stored_words(db) == {}
        fake_dictionary.mode = Mode.OK
        await asyncio.sleep(0)  # the earlier flight may still be winding down
        for _ in range(50):
            if not len(store._fetches):
                break
            await asyncio.sleep(0.1)
        assert (await store.define(["zyzzyva"], 5))["zyzzyva"].entry is not None

    async def test_a_429_with_retry_after_300_fails_at_once(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        fake_dictionary.mode = Mode.RATE_LIMITED
        store = store_for(db, MemoryCache(), fake_dictionary, http_client, upstream_timeout=5)
        started = time.monotonic()
        await store.define(["zyzzyva"], 5)
        # Waiting for the retry, or until the 5 s budget ran out, would take 5 s or more.
        assert time.monotonic() - started < 3.0
        assert fake_dictionary.requests_for("zyzzyva") == 1

    async def test_a_429_with_a_short_retry_after_is_retried(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        fake_dictionary.word_modes["zyzzyva"] = Mode.RATE_LIMITED
        fake_dictionary.retry_after = "1"
        store = store_for(db, MemoryCache(), fake_dictionary, http_client, upstream_timeout=5)
        task = asyncio.create_task(store.define(["zyzzyva"], 4))
        await asyncio.sleep(0.5)
        fake_dictionary.word_modes.clear()
        known = await task
        assert known["zyzzyva"].entry is not None
        assert fake_dictionary.requests_for("zyzzyva") == 2


class TestLevels:
    async def test_cache_then_table_then_provider(
        self, db: Database, cache: Cache, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        store = store_for(db, cache, fake_dictionary, http_client)
        await store.define(["hello", "zyzzyva"], 5)
        assert fake_dictionary.total_requests == 2
        assert await stored_words(db) == {"hello": True, "zyzzyva": True}
        # Cache flushed (a restart, a Redis flush): the durable table answers, the provider is not asked.
        for word in ("hello", "zyzzyva"):
            await cache.delete(definition_key(word))
        fresh = store_for(db, cache, fake_dictionary, http_client)
        again = await fresh.define(["hello", "zyzzyva"], 5)
        assert again["hello"].entry is not None
        assert fake_dictionary.total_requests == 2
        assert await cache.get(definition_key("hello")) is not None

    async def test_one_request_per_word_under_20_concurrent_cold_callers(
        self, db: Database, cache: Cache, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        fake_dictionary.mode = Mode.SLOW
        fake_dictionary.delay_s = 0.3
        words = ["alpha", "beta", "gamma", "delta", "is"]
        store = store_for(db, cache, fake_dictionary, http_client)
        results = await asyncio.gather(*(store.define(words, 5) for _ in range(20)))
        assert all(set(result) == set(words) for result in results)
        assert {word: fake_dictionary.requests_for(word) for word in words} == dict.fromkeys(words, 1)

    async def test_a_flight_started_after_an_earlier_one_stored_the_word_asks_nobody(
        self, db: Database, cache: Cache, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        """The race behind a once-flaky count: a caller misses the cache and the table, an earlier flight
        then stores the word and ends, and only then does the caller start its own flight."""
        store = store_for(db, cache, fake_dictionary, http_client)
        first = await store.define(["alpha"], 5)
        assert not len(store._fetches)
        late = await store._fetches.run("alpha", functools.partial(store._fetch, "alpha"))
        assert late == first["alpha"]
        assert fake_dictionary.requests_for("alpha") == 1

    async def test_across_processes_the_cache_lock_keeps_it_to_one_request(
        self, db: Database, redis_clean: str, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        """Two stores with their own in-process flights (as two processes have) share one Redis."""
        fake_dictionary.mode = Mode.SLOW
        fake_dictionary.delay_s = 0.3
        first, second = RedisCache(redis_clean), RedisCache(redis_clean)
        try:
            one = store_for(db, first, fake_dictionary, http_client)
            two = store_for(db, second, fake_dictionary, http_client)
            results = await asyncio.gather(*(store.define(["omega"], 5) for store in (one, two) for _ in range(5)))
            assert all(result["omega"].entry is not None for result in results)
            assert fake_dictionary.requests_for("omega") == 1
        finally:
            await first.close()
            await second.close()

    async def test_a_hanging_provider_costs_a_request_the_deadline_only(
        self, db: Database, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        fake_dictionary.word_modes["slowpoke"] = Mode.HANG
        store = store_for(db, MemoryCache(), fake_dictionary, http_client, upstream_timeout=5)
        started = time.monotonic()
        known = await store.define(["hello", "slowpoke"], 1.0)
        assert time.monotonic() - started < 3.5  # the deadline (1 s), not the hang's 5 s budget
        assert set(known) == {"hello"}
        await store.close()


class TestDictionaryAnswers:
    async def test_concurrent_misses_build_one_answer_per_version(
        self, db: Database, cache: Cache, fake_dictionary: FakeDictionary, http_client: httpx.AsyncClient
    ) -> None:
        async with db.write() as session:
            await create_paragraph(session, "alpha alpha beta gamma", Source.USER)
        fake_dictionary.mode = Mode.SLOW
        fake_dictionary.delay_s = 0.3
        store = store_for(db, cache, fake_dictionary, http_client)
        corpus = CorpusVersion(db)
        before = definition_lookups()
        bodies = await asyncio.gather(*(dictionary_json(db, store, corpus, 10, 5) for _ in range(20)))
        assert len(set(bodies)) == 1
        assert [word["word"] for word in json.loads(bodies[0])["words"]] == ["alpha", "beta", "gamma"]
        assert definition_lookups() - before == 3  # one build looked the 3 words up, not 20
        assert {word: fake_dictionary.requests_for(word) for word in ("alpha", "beta", "gamma")} == dict.fromkeys(
            ("alpha", "beta", "gamma"), 1
        )
        assert len(store.answers) == 0
        await store.close()
        await corpus.close()


def definition_lookups() -> float:
    return sum(
        REGISTRY.get_sample_value("paragraphs_cache_requests_total", {"feature": "definition", "result": result}) or 0
        for result in ("hit", "miss")
    )
