"""One computation per key in flight in this process, however many callers want its result.

A caller that goes away (its client left, its deadline passed) leaves the computation running for
the others; `close()` cancels what is still running when the process stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Flights(Generic[K, V]):
    def __init__(self, name: str) -> None:
        self._name = name
        self._tasks: dict[K, asyncio.Task[V]] = {}

    def task(self, key: K, make: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        """The task computing `key`: the one in flight, else a new one running `make()`."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            task.set_name(f"{self._name}:{key}")
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return task

    async def run(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        """`key`'s result, computed once for every caller waiting meanwhile."""
        return await asyncio.shield(self.task(key, make))

    def _landed(self, key: K, done: asyncio.Task[V]) -> None:
        if self._tasks.get(key) is done:
            del self._tasks[key]
        if not done.cancelled():
            done.exception()  # retrieved: every caller may have gone away; they log what matters

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
