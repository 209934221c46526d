"""The cache: in-process and Redis behave alike; a Redis that dies costs speed, never answers."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from paragraphs.cache import Cache, LayeredCache, MemoryCache, RedisCache, is_versioned
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.server import free_port
from tests.services import missing


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    backend = RedisCache(request.getfixturevalue("redis_url"))
    await backend._client.flushdb()
    yield backend
    await backend._client.flushdb()
    await backend.close()


class TestCacheBackends:
    async def test_get_set_expire(self, cache: Cache) -> None:
        assert await cache.get("paragraphs:test:a") is None
        await cache.set("paragraphs:test:a", b"1", 0.2)
        assert await cache.get("paragraphs:test:a") == b"1"
        await asyncio.sleep(0.3)
        assert await cache.get("paragraphs:test:a") is None

    async def test_add_is_set_if_absent(self, cache: Cache) -> None:
        assert await cache.add("paragraphs:test:lock", b"1", 5) is True
        assert await cache.add("paragraphs:test:lock", b"2", 5) is False
        await cache.delete("paragraphs:test:lock")
        assert await cache.add("paragraphs:test:lock", b"3", 5) is True

    async def test_get_many_answers_each_key_in_order(self, cache: Cache) -> None:
        await cache.set("paragraphs:test:a", b"1", 60)
        await cache.set("paragraphs:test:c", b"3", 60)
        keys = ["paragraphs:test:c", "paragraphs:test:b", "paragraphs:test:a"]
        assert await cache.get_many(keys) == [b"3", None, b"1"]
        assert await cache.get_many([]) == []

    async def test_state(self, cache: Cache) -> None:
        state, _detail = await cache.state()
        assert state == "ok"


class TestMemoryCacheBounds:
    async def test_bytes_are_bounded_least_recently_used_out_first(self) -> None:
        cache = MemoryCache(max_entries=100, max_bytes=250)
        for name in "abc":
            await cache.set(name, name.encode() * 100, 60)
        assert await cache.get("a") is None  # 300 bytes do not fit in 250: the oldest went
        assert cache.size_bytes == 200
        assert await cache.get("b") is not None  # b is now the most recently used
        await cache.set("d", b"d" * 100, 60)
        assert await cache.get("c") is None
        assert (await cache.get("b"), await cache.get("d")) == (b"b" * 100, b"d" * 100)
        assert cache.size_bytes == 200

    async def test_replacing_and_deleting_keep_the_tally(self) -> None:
        cache = MemoryCache(max_entries=100, max_bytes=1000)
        await cache.set("a", b"x" * 300, 60)
        await cache.set("a", b"y" * 100, 60)
        assert cache.size_bytes == 100
        await cache.delete("a")
        assert (cache.size_bytes, len(cache)) == (0, 0)

    async def test_a_value_over_the_budget_is_not_kept(self) -> None:
        cache = MemoryCache(max_entries=100, max_bytes=10)
        await cache.set("small", b"1", 60)
        await cache.set("big", b"x" * 11, 60)
        assert await cache.get("big") is None
        assert await cache.get("small") == b"1"

    async def test_entries_are_bounded_too(self) -> None:
        cache = MemoryCache(max_entries=2, max_bytes=10**6)
        for name in "abc":
            await cache.set(name, b"1", 60)
        assert len(cache) == 2
        assert await cache.get("a") is None


@pytest.fixture
async def layers(redis_url: str) -> AsyncIterator[tuple[RedisCache, LayeredCache]]:
    """An empty Redis cache, and a layered cache in front of it."""
    redis_cache = RedisCache(redis_url)
    await redis_cache._client.flushdb()
    layered = LayeredCache(redis_cache, MemoryCache())
    yield redis_cache, layered
    await layered.close()


class TestLayeredCache:
    async def test_versioned_keys_are_kept_in_process_others_only_in_redis(
        self, layers: tuple[RedisCache, LayeredCache]
    ) -> None:
        redis_cache, layered = layers
        await layered.set("paragraphs:search:7:abc", b"page", 60)
        await layered.set("paragraphs:definition:word:river", b"entry", 60)
        assert await redis_cache.get("paragraphs:search:7:abc") == b"page"  # shared with other processes
        await redis_cache._client.flushdb()
        assert await layered.get("paragraphs:search:7:abc") == b"page"  # never changes: the local copy holds
        assert await layered.get("paragraphs:definition:word:river") is None  # may change: Redis says
        # Several at once: the versioned key from this process, the others from Redis.
        keys = ["paragraphs:definition:word:river", "paragraphs:search:7:abc"]
        assert await layered.get_many(keys) == [None, b"page"]
        await redis_cache.set("paragraphs:definition:word:river", b"entry", 60)
        await redis_cache.set("paragraphs:definition:word:sea", b"other", 60)
        definitions = ["paragraphs:definition:word:sea", "paragraphs:definition:word:river"]
        assert await layered.get_many(definitions) == [b"other", b"entry"]

    async def test_each_hit_is_counted_at_the_level_that_answered(self, redis_url: str) -> None:
        redis_cache = RedisCache(redis_url)
        await redis_cache._client.flushdb()
        layered = LayeredCache(redis_cache, MemoryCache())

        def hits(level: str) -> float:
            return REGISTRY.get_sample_value("paragraphs_cache_hits_total", {"feature": "search", "level": level}) or 0

        before = {level: hits(level) for level in ("memory", "redis")}
        try:
            await redis_cache.set("paragraphs:search:9:abc", b"page", 60)  # as another process would
            assert await layered.get("paragraphs:search:9:abc") == b"page"  # from Redis, then kept locally
            assert await layered.get("paragraphs:search:9:abc") == b"page"  # from memory
            assert await layered.get("paragraphs:search:9:none") is None
        finally:
            await layered.close()
        assert {level: hits(level) - before[level] for level in before} == {"memory": 1, "redis": 1}

    async def test_a_value_another_process_stored_is_then_kept_locally(self, redis_url: str) -> None:
        other, mine = RedisCache(redis_url), RedisCache(redis_url)
        await other._client.flushdb()
        layered = LayeredCache(mine, MemoryCache())
        try:
            await other.set("paragraphs:dictionary:3:10", b"top", 60)
            assert await layered.get("paragraphs:dictionary:3:10") == b"top"
            await other._client.flushdb()
            assert await layered.get("paragraphs:dictionary:3:10") == b"top"
        finally:
            await layered.close()
            await other.close()

    async def test_get_many_of_a_dead_redis_is_all_misses(self) -> None:
        dead = RedisCache(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
        try:
            assert await dead.get_many(["paragraphs:definition:word:a", "paragraphs:definition:word:b"]) == [None, None]
            state, _detail = await dead.state()
            assert state == "degraded"
        finally:
            await dead.close()

    def test_versioned_keys(self) -> None:
        assert is_versioned("paragraphs:search:12:deadbeef")
        assert is_versioned("paragraphs:dictionary:0:10")
        assert is_versioned("paragraphs:search-words:3.0.12:deadbeef")
        assert not is_versioned("paragraphs:definition:3.x:deadbeef")
        assert not is_versioned("paragraphs:definition:word:river")
        assert not is_versioned("paragraphs:definition:lock:word")


class RedisProcess:
    """A redis-server of our own on a free port, to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        missing("redis-server (binary)", "PATH")
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


class TestRedisGoesAway:
    async def test_every_endpoint_still_answers_readiness_degrades_then_recovers(
        self, own_redis: RedisProcess, database_url: str
    ) -> None:
        settings = Settings(database_url=database_url, offline=True, redis_url=own_redis.url, _env_file=None)
        async with app_client(settings) as client:
            assert (await client.post("/paragraphs", json={"content": "cached apple"})).status_code == 201
            assert (await client.post("/search", json={"words": ["apple"], "operator": "and"})).headers[
                "X-Cache"
            ] == "MISS"
            assert (await client.post("/search", json={"words": ["apple"], "operator": "and"})).headers[
                "X-Cache"
            ] == "HIT"

            own_redis.stop()
            ready = await client.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"]["cache"]["status"] == "degraded"
            assert (await client.post("/paragraphs", json={"content": "second apple"})).status_code == 201
            searched = await client.post("/search", json={"words": ["apple"], "operator": "and"})
            assert searched.status_code == 200
            assert searched.json()["total_count"] == 2
            assert (await client.get("/dictionary")).status_code == 200
            assert (await client.post("/fetch")).status_code == 201

            own_redis.start()
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["cache"]["status"] == "ok"
            # "second" was never searched (an "apple" answer may still be kept in-process, under its words' versions)
            first = await client.post("/search", json={"words": ["second"], "operator": "and"})
            assert first.headers["X-Cache"] == "MISS"
            assert (await client.post("/search", json={"words": ["second"], "operator": "and"})).headers[
                "X-Cache"
            ] == "HIT"
