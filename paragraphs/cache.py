"""The cache: an optimisation, never a dependency. In-process (embedded) or Redis (production).

Values are bytes with a time to live. A cache that fails answers "miss" and swallows the write:
callers never see a cache error.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Literal, Protocol

from prometheus_client import Counter

CACHE_REQUESTS = Counter(
    "paragraphs_cache_requests_total", "Cache look-ups by feature and result.", ["feature", "result"]
)

CacheState = Literal["ok", "degraded", "disabled"]


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def state(self) -> tuple[CacheState, str]: ...

    async def close(self) -> None: ...


def key(feature: str, *parts: object) -> str:
    """`paragraphs:<feature>:<part>:<part>...`, the one shape of our cache keys."""
    return ":".join(["paragraphs", feature, *map(str, parts)])


def record(feature: str, hit: bool) -> None:
    CACHE_REQUESTS.labels(feature, "hit" if hit else "miss").inc()


class MemoryCache:
    """A bounded TTL cache in this process, least recently used out first."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def state(self) -> tuple[CacheState, str]:
        return "ok", f"in-process, {len(self._entries)} entries"

    async def close(self) -> None:
        self._entries.clear()
