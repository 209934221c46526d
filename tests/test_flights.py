"""One computation per key however many callers wait; a caller that leaves does not stop it."""

from __future__ import annotations

import asyncio
import functools

import pytest

from paragraphs.flights import Flights


async def test_concurrent_callers_share_one_computation_per_key() -> None:
    flights: Flights[str, str] = Flights("test")
    started: list[str] = []
    release = asyncio.Event()

    async def compute(key: str) -> str:
        started.append(key)
        await release.wait()
        return key.upper()

    callers = [asyncio.create_task(flights.run(key, functools.partial(compute, key))) for key in "aaab"]
    for _ in range(3):  # the callers start, then the computations they started
        await asyncio.sleep(0)
    assert sorted(started) == ["a", "b"]
    assert len(flights) == 2
    release.set()
    assert await asyncio.gather(*callers) == ["A", "A", "A", "B"]
    assert len(flights) == 0
    assert await flights.run("a", functools.partial(compute, "a")) == "A"  # landed: the next call computes anew
    assert started.count("a") == 2


async def test_a_caller_that_leaves_leaves_the_computation_to_the_others() -> None:
    flights: Flights[str, int] = Flights("test")
    release = asyncio.Event()
    runs = 0

    async def compute() -> int:
        nonlocal runs
        runs += 1
        await release.wait()
        return 42

    leaving = asyncio.create_task(flights.run("k", compute))
    staying = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    release.set()
    assert await staying == 42
    assert runs == 1


async def test_a_failure_reaches_every_caller_and_is_not_kept() -> None:
    flights: Flights[str, int] = Flights("test")
    attempts = 0

    async def compute() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise RuntimeError("upstream down")
        return 1

    results = await asyncio.gather(flights.run("k", compute), flights.run("k", compute), return_exceptions=True)
    assert [type(result) for result in results] == [RuntimeError, RuntimeError]
    assert await flights.run("k", compute) == 1


async def test_close_cancels_what_is_in_flight() -> None:
    flights: Flights[str, None] = Flights("test")
    task = flights.task("k", lambda: asyncio.sleep(60))
    await flights.close()
    assert task.cancelled()
    assert len(flights) == 0
