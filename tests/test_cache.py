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

from paragraphs.cache import Cache, MemoryCache, RedisCache
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

    async def test_state(self, cache: Cache) -> None:
        state, _detail = await cache.state()
        assert state == "ok"


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
            assert (await client.post("/search", json={"words": ["apple"]})).headers["X-Cache"] == "MISS"
            assert (await client.post("/search", json={"words": ["apple"]})).headers["X-Cache"] == "HIT"

            own_redis.stop()
            ready = await client.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"]["cache"]["status"] == "degraded"
            assert (await client.post("/paragraphs", json={"content": "second apple"})).status_code == 201
            searched = await client.post("/search", json={"words": ["apple"]})
            assert searched.status_code == 200
            assert searched.json()["total_count"] == 2
            assert (await client.get("/dictionary")).status_code == 200
            assert (await client.post("/fetch")).status_code == 201

            own_redis.start()
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["cache"]["status"] == "ok"
            first = await client.post("/search", json={"words": ["apple"]})
            assert first.headers["X-Cache"] == "MISS"
            assert (await client.post("/search", json={"words": ["apple"]})).headers["X-Cache"] == "HIT"
