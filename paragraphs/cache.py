"""The cache: an optimisation, never a dependency. In-process (embedded) or Redis (production).

Values are bytes with a time to live. A cache that fails answers "miss" and swallows the write:
callers never see a cache error.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal, Protocol

import redis.asyncio as redis
import structlog
from prometheus_client import Counter
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

CACHE_REQUESTS = Counter(
    "paragraphs_cache_requests_total", "Cache look-ups by feature and result.", ["feature", "result"]
)

# Where a look-up was answered: `memory` (this process), `redis`, and for definitions also `table` (the
# durable `definition` table) and `provider` (asked afresh). Misses in total: CACHE_REQUESTS.
CACHE_HITS = Counter(
    "paragraphs_cache_hits_total",
    "Look-ups answered, by feature and the level that answered (memory, redis, table, provider).",
    ["feature", "level"],
)

CacheState = Literal["ok", "degraded", "disabled"]


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """`get` of each key, in order, in one round trip where the cache has one (Redis MGET)."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent (a lock): True when this call set it, or when the cache cannot say
        (down): a lock must never make a caller wait on a cache that is not there."""
        ...

    async def delete(self, key: str) -> None: ...

    async def state(self) -> tuple[CacheState, str]: ...

    async def close(self) -> None: ...


def key(feature: str, *parts: object) -> str:
    """`paragraphs:<feature>:<part>:<part>...`, the one shape of our cache keys."""
    return ":".join(["paragraphs", feature, *map(str, parts)])


def record(feature: str, hit: bool) -> None:
    CACHE_REQUESTS.labels(feature, "hit" if hit else "miss").inc()


def feature_of(key: str) -> str:
    """The `<feature>` of `paragraphs:<feature>:...`, the label of a hit on that key."""
    parts = key.split(":", 2)
    return parts[1] if len(parts) > 1 and parts[0] == "paragraphs" else "other"


def record_level(feature: str, level: str, hits: int = 1) -> None:
    if hits:
        _hits(feature, level).inc(hits)


@functools.cache
def _hits(feature: str, level: str) -> Counter:
    """The labelled child, found once: `labels()` on every hit cost more than the hit itself
    (bench/metrics_cost.py; figures in bench/RESULTS.md)."""
    return CACHE_HITS.labels(feature, level)


class MemoryCache:
    """A bounded TTL cache in this process, least recently used out first.

    Bounded twice: by entries, and by the bytes of the values (a search result of 100 paragraphs is
    ~320 KB, so 10,000 of them would be 3 GB). A value larger than the whole budget is not kept.
    """

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 64 * 2**20) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        record_level(feature_of(key), "memory")
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._drop(key)
        if len(value) > self._max_bytes:
            return
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._bytes += len(value)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _key, (_expires_at, oldest) = self._entries.popitem(last=False)
            self._bytes -= len(oldest)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._drop(key)

    async def state(self) -> tuple[CacheState, str]:
        return "ok", f"in-process, {len(self._entries)} entries, {self._bytes} bytes"

    async def close(self) -> None:
        self._entries.clear()
        self._bytes = 0


class RedisCache:
    """Redis, with every error swallowed: after one, Redis is left alone for `retry_after_s`, during
    which the cache answers "miss" at once (no request waits on a dead Redis), then tried again."""

    def __init__(self, url: str, *, timeout_s: float = 0.5, retry_after_s: float = 5.0) -> None:
        # One immediate retry on a connection error: after Redis restarts, pooled connections are stale
        # and fail once each; a fresh connection then succeeds.
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self._last_error = ""

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self._retry_after_s
        self._last_error = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("cache unavailable", error=self._last_error, retry_in_s=self._retry_after_s)

    async def get(self, key: str) -> bytes | None:
        if not self._available():
            return None
        try:
            value = await self._client.get(key)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        if not isinstance(value, bytes):
            return None
        record_level(feature_of(key), "redis")
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys or not self._available():
            return [None] * len(keys)
        try:
            values = await self._client.mget(keys)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return [None] * len(keys)
        found: list[bytes | None] = [value if isinstance(value, bytes) else None for value in values]
        for key, value in zip(keys, found, strict=True):
            if value is not None:
                record_level(feature_of(key), "redis")
        return found

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if not self._available():
            return
        try:
            await self._client.set(key, value, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if not self._available():
            return True
        try:
            return bool(await self._client.set(key, value, px=max(1, int(ttl_s * 1000)), nx=True))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return True

    async def delete(self, key: str) -> None:
        if not self._available():
            return
        try:
            await self._client.delete(key)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def state(self) -> tuple[CacheState, str]:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return "degraded", f"redis unreachable, serving without cache: {self._last_error}"
        self._down_until = 0.0
        return "ok", "redis"

    async def close(self) -> None:
        await self._client.aclose()


# Versioned values kept in-process in front of Redis: long enough to spare Redis the hot keys, short
# enough that memory follows the working set.
LOCAL_TTL_S = 60.0


def is_versioned(key: str) -> bool:
    """`paragraphs:<feature>:<corpus version>:...`, or `<version>.<version>...` (a search's words'
    versions): the value under such a key never changes (a write makes a new version, hence a new
    key), so any process may keep a copy."""
    parts = key.split(":", 3)
    return len(parts) > 2 and all(version.isdigit() for version in parts[2].split("."))


class LayeredCache:
    """Redis (shared by every process) behind an in-process layer for versioned keys only.

    A cached search or /dictionary then costs a dictionary look-up in this process instead of a Redis
    round trip; other keys (definitions, which a refresh changes, and locks) always go to Redis.
    """

    def __init__(self, shared: Cache, local: MemoryCache) -> None:
        self._shared = shared
        self._local = local

    async def get(self, key: str) -> bytes | None:
        if not is_versioned(key):
            return await self._shared.get(key)
        value = await self._local.get(key)
        if value is None:
            value = await self._shared.get(key)
            if value is not None:
                await self._local.set(key, value, LOCAL_TTL_S)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if any(is_versioned(key) for key in keys):
            return [await self.get(key) for key in keys]
        return await self._shared.get_many(keys)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if is_versioned(key):
            await self._local.set(key, value, min(ttl_s, LOCAL_TTL_S))
        await self._shared.set(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._shared.add(key, value, ttl_s)

    async def delete(self, key: str) -> None:
        await self._local.delete(key)
        await self._shared.delete(key)

    async def state(self) -> tuple[CacheState, str]:
        return await self._shared.state()

    async def close(self) -> None:
        await self._local.close()
        await self._shared.close()
