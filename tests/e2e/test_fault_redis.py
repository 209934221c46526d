"""Fault test 7(c): Redis (the cache) and the broker (Redis too) killed and restarted under traffic.

Our own redis-server on a free port serves both; 16 clients write, update, delete and search the
whole time. Expected: only 2xx, nothing acknowledged lost, counts and search exact, publishing
skipped (not waited on) while the broker is down, and both back by themselves after the restart.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from prometheus_client import REGISTRY

from paragraphs.cache import MemoryCache
from paragraphs.db.engine import Database
from paragraphs.dictionary import tasks as dictionary_tasks
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.dictionary.test_counts import recount, stored_counts
from tests.e2e.traffic import VOCABULARY, Traffic
from tests.fixtures.redis_server import redis_server
from tests.search.test_brute_force import brute_force

CLIENTS = 16


def jobs(outcome: str) -> float:
    sample = REGISTRY.get_sample_value(
        "paragraphs_jobs_total", {"job": dictionary_tasks.WARM_TOP_WORDS, "outcome": outcome}
    )
    return sample or 0.0


async def readiness(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text  # the cache and the queue are never required
    checks = response.json()["checks"]
    return {"cache": checks["cache"]["status"], "queue": checks["queue"]["detail"]}


async def eventually_ready(client: httpx.AsyncClient, cache: str, broker_up: bool, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        state = await readiness(client)
        if state["cache"] == cache and ("broker unreachable" in state["queue"]) != broker_up:
            return
        assert asyncio.get_running_loop().time() < deadline, f"readiness stayed {state}"
        await asyncio.sleep(0.1)


async def eventually_more(outcome: str, than: float, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while jobs(outcome) <= than:
        assert asyncio.get_running_loop().time() < deadline, f"no job {outcome} after {timeout_s} s"
        await asyncio.sleep(0.05)


async def assert_exact(db: Database, traffic: Traffic) -> None:
    async with db.read() as session:
        from sqlalchemy import select

        from paragraphs.db.models import Paragraph

        stored = {row.id: row.content for row in (await session.execute(select(Paragraph.id, Paragraph.content)))}
    assert stored == traffic.acknowledged  # lost: 0, and nothing unacknowledged appeared
    assert await stored_counts(db) == traffic.expected_counts() == await recount(db)
    cache = MemoryCache()
    for words, operator in [([word], "and") for word in VOCABULARY] + [
        (VOCABULARY[:2], "and"),
        (VOCABULARY[2:5], "or"),
    ]:
        request = SearchRequest(words=words, operator=operator, limit=1000)  # type: ignore[arg-type]
        response, _ = await search_service.search(db, cache, request)
        expected = brute_force(traffic.acknowledged, words, operator)
        assert response.total_count == len(expected)
        assert [hit.id for hit in response.paragraphs] == expected[:1000]


class TestRedisAndBrokerKilled:
    async def test_only_2xx_nothing_lost_and_recovery_by_itself(
        self, db: Database, database_url: str, tmp_path: Path
    ) -> None:
        with redis_server(tmp_path) as server:
            settings = Settings(
                database_url=database_url,
                offline=True,
                redis_url=server.url(0),
                broker_url=server.url(1),
                _env_file=None,
            )
            async with app_client(settings) as client:
                await eventually_ready(client, cache="ok", broker_up=True)
                traffic = Traffic(client)
                running = asyncio.create_task(traffic.run(CLIENTS))
                try:
                    await traffic.until(150)
                    sent_before, skipped_before, not_sent_before = jobs("sent"), jobs("skipped"), jobs("not_sent")
                    assert sent_before > 0
                    server.kill()
                    killed_at = traffic.requests
                    await traffic.until(killed_at + 400)
                    await eventually_ready(client, cache="degraded", broker_up=False)
                    down_requests = traffic.requests - killed_at
                    skipped, failed = jobs("skipped") - skipped_before, jobs("not_sent") - not_sent_before
                    server.start()
                    restarted_at = traffic.requests
                    await eventually_ready(client, cache="ok", broker_up=True)
                    sent_at_restart = jobs("sent")
                    await eventually_more("sent", than=sent_at_restart)
                    await traffic.until(traffic.requests + 100)
                finally:
                    traffic.stopping.set()
                    await running
        sys.stdout.write(  # the figures for the report (pytest -s)
            f"\n7(c) {db.dialect}: {traffic.requests} requests, statuses {dict(sorted(traffic.statuses.items()))}, "
            f"{down_requests} while Redis was down; jobs not sent {failed:.0f}, skipped {skipped:.0f}; "
            f"{traffic.requests - restarted_at} after the restart; paragraphs {len(traffic.acknowledged)}\n"
        )
        assert set(traffic.statuses) <= {200, 201, 204}, traffic.statuses
        # While the broker was down, writes skipped publishing instead of each trying (and waiting).
        assert skipped > 0
        assert failed <= skipped
        await assert_exact(db, traffic)
