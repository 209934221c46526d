"""Rate limits per client: 429 with Retry-After and RateLimit-* headers, in memory and in Redis alike;
one budget for every process sharing a Redis; a Redis that goes away lets requests through and says so."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request

from paragraphs.ratelimit import client_address, parse_networks
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.services import missing
from tests.test_cache import RedisProcess

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def redis_not_started(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of our own on a free port, started by the test when it wants it."""
    if shutil.which("redis-server") is None:
        missing("redis-server (binary)", "PATH")
    server = RedisProcess(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def memory_settings(database_url: str) -> SettingsFactory:
    def make(**overrides: Any) -> Settings:
        return Settings.model_validate({"database_url": database_url, "offline": True, **overrides})

    return make


async def wait_until(check: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    """Return once `await check()` is true; fail the test after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.fixture(params=["memory", "redis"])
def make_settings(request: pytest.FixtureRequest, database_url: str) -> SettingsFactory:
    """Settings for one storage of the limiter: in-process memory, or the test Redis (flushed).

    Tests on both storages limit searches: a write starts the in-process warm-up job, which may still be
    talking to Redis when the app stops (a known shutdown race, docs/architecture.md), and the
    limiter's storage code is the same for every group."""
    redis_url = request.getfixturevalue("redis_clean") if request.param == "redis" else None

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"database_url": database_url, "offline": True, "redis_url": redis_url}
        return Settings.model_validate({**values, **overrides})

    return make


async def paragraph_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/paragraphs", params={"limit": 1000})).json()["paragraphs"])


def counter(metrics_text: str, group: str, outcome: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "paragraphs_ratelimit_requests":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels == {"group": group, "outcome": outcome}:
                    return sample.value
    return 0.0


class TestBudget:
    async def test_fetch_beyond_the_limit_is_429_with_headers_and_stores_nothing(
        self, memory_settings: SettingsFactory
    ) -> None:
        async with app_client(memory_settings(rate_limit_fetch="2/hour")) as client:
            first = await client.post("/fetch")
            second = await client.post("/fetch")
            assert (first.status_code, second.status_code) == (201, 201)
            assert first.headers["RateLimit-Limit"] == "2"
            assert (first.headers["RateLimit-Remaining"], second.headers["RateLimit-Remaining"]) == ("1", "0")
            assert first.headers["RateLimit-Policy"] == "2;w=3600"

            refused = await client.post("/fetch")
            assert refused.status_code == 429
            assert "too many requests" in refused.json()["detail"]
            assert 1 <= int(refused.headers["Retry-After"]) <= 3600
            assert refused.headers["RateLimit-Remaining"] == "0"
            assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
            assert await paragraph_count(client) == 2

    async def test_groups_spend_separate_budgets(self, memory_settings: SettingsFactory) -> None:
        settings = memory_settings(rate_limit_fetch="1/hour", rate_limit_write="2/hour", rate_limit_search="3/hour")
        async with app_client(settings) as client:
            created = await client.post("/paragraphs", json={"content": "apple"})
            assert created.status_code == 201
            deleted = await client.delete(f"/paragraphs/{created.json()['id']}")
            assert deleted.status_code == 204
            assert deleted.headers["RateLimit-Remaining"] == "0"  # headers reach a 204 too
            assert (await client.post("/paragraphs", json={"content": "pear"})).status_code == 429
            assert (await client.put("/paragraphs/1", json={"content": "pear"})).status_code == 429

            assert (await client.post("/fetch")).status_code == 201
            assert (await client.post("/fetch")).status_code == 429

            searches = [
                (await client.get("/search", params={"words": "apple", "operator": "and"})).status_code,
                (await client.post("/search", json={"words": ["apple"], "operator": "or"})).status_code,
                (await client.get("/search", params={"words": "pear", "operator": "and"})).status_code,
                (await client.post("/search", json={"words": ["pear"], "operator": "or"})).status_code,
            ]
            assert searches == [200, 200, 200, 429]
            # Reads that are not searches are never limited.
            assert (await client.get("/paragraphs")).status_code == 200
            assert "RateLimit-Limit" not in (await client.get("/dictionary")).headers

    async def test_several_limits_in_one_setting_all_apply(self, make_settings: SettingsFactory) -> None:
        async with app_client(make_settings(rate_limit_search="100/minute;2/hour")) as client:
            statuses = [
                (await client.get("/search", params={"words": "a", "operator": "and"})).status_code for _ in range(3)
            ]
            assert statuses == [200, 200, 429]

    async def test_off_switch(self, make_settings: SettingsFactory) -> None:
        async with app_client(make_settings(rate_limits_enabled=False, rate_limit_search="1/hour")) as client:
            responses = [await client.get("/search", params={"words": "a", "operator": "and"}) for _ in range(3)]
            assert [response.status_code for response in responses] == [200, 200, 200]
            assert "RateLimit-Limit" not in responses[0].headers
            ready = (await client.get("/health/ready")).json()
            assert ready["checks"]["ratelimit"]["status"] == "disabled"
            assert ready["status"] == "ok"

    async def test_decisions_are_counted_in_metrics(self, make_settings: SettingsFactory) -> None:
        async with app_client(make_settings(rate_limit_search="1/hour")) as client:
            before = (await client.get("/metrics")).text
            for _ in range(3):
                await client.get("/search", params={"words": "a", "operator": "and"})
            after = (await client.get("/metrics")).text
        assert counter(after, "search", "allowed") - counter(before, "search", "allowed") == 1
        assert counter(after, "search", "limited") - counter(before, "search", "limited") == 2


class TestWhoIsTheClient:
    async def test_each_api_key_has_its_own_budget_unknown_keys_share_the_address(
        self, make_settings: SettingsFactory
    ) -> None:
        settings = make_settings(api_keys="k1,k2", rate_limit_search="1/hour")
        async with app_client(settings) as client:

            async def search(headers: dict[str, str]) -> int:
                return (
                    await client.get("/search", params={"words": "a", "operator": "and"}, headers=headers)
                ).status_code

            assert await search({"X-API-Key": "k1"}) == 200
            assert await search({"Authorization": "Bearer k1"}) == 429  # same key, either header
            assert await search({"X-API-Key": "k2"}) == 200
            # Made-up keys do not buy fresh budgets: they count against the address.
            assert await search({"X-API-Key": "made-up-1"}) == 200
            assert await search({"X-API-Key": "made-up-2"}) == 429
            assert await search({}) == 429

    async def test_forwarded_for_counts_only_from_trusted_proxies(self, make_settings: SettingsFactory) -> None:
        # The test client connects from 127.0.0.1.
        untrusted = make_settings(rate_limit_search="1/hour")
        async with app_client(untrusted) as client:
            first = await client.get(
                "/search", params={"words": "a", "operator": "and"}, headers={"X-Forwarded-For": "203.0.113.1"}
            )
            second = await client.get(
                "/search", params={"words": "a", "operator": "and"}, headers={"X-Forwarded-For": "203.0.113.2"}
            )
            assert (first.status_code, second.status_code) == (200, 429)

        trusted = make_settings(rate_limit_search="1/hour", trusted_proxies="127.0.0.0/8")
        async with app_client(trusted) as client:
            for address in ("203.0.113.3", "203.0.113.4"):
                response = await client.get(
                    "/search", params={"words": "a", "operator": "and"}, headers={"X-Forwarded-For": address}
                )
                assert response.status_code == 200
            again = await client.get(
                "/search", params={"words": "a", "operator": "and"}, headers={"X-Forwarded-For": "203.0.113.3"}
            )
            assert again.status_code == 429


def request_from(peer: str, forwarded_for: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


class TestClientAddress:
    def test_untrusted_peer_is_the_client_whatever_it_forwards(self) -> None:
        assert client_address(request_from("198.51.100.7", ["203.0.113.1"]), parse_networks(["10.0.0.0/8"])) == (
            "198.51.100.7"
        )

    def test_right_most_address_that_is_not_a_trusted_proxy(self) -> None:
        trusted = parse_networks(["10.0.0.0/8", "192.0.2.1"])
        forwarded = ["1.1.1.1, 203.0.113.9", "192.0.2.1"]  # a spoofed entry first, then what the proxies added
        assert client_address(request_from("10.1.2.3", forwarded), trusted) == "203.0.113.9"

    def test_all_trusted_or_garbage_falls_back_to_the_peer(self) -> None:
        trusted = parse_networks(["10.0.0.0/8"])
        assert client_address(request_from("10.1.2.3", ["10.9.9.9"]), trusted) == "10.1.2.3"
        assert client_address(request_from("10.1.2.3", []), trusted) == "10.1.2.3"
        assert client_address(request_from("10.1.2.3", ["not-an-ip"]), trusted) == "not-an-ip"


class TestSettings:
    @pytest.mark.parametrize("value", ["", "lots", "0/hour", "5 per fortnight"])
    def test_a_limit_that_does_not_parse_is_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="rate limit"):
            Settings.model_validate({"rate_limit_search": value})

    def test_a_proxy_that_is_not_an_address_is_refused(self) -> None:
        with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
            Settings.model_validate({"trusted_proxies": "10.0.0.0/8, proxy.local"})


@pytest.mark.redis
class TestSharedBudget:
    async def test_two_apps_on_one_redis_spend_one_budget(self, redis_clean: str, database_url: str) -> None:
        settings = Settings.model_validate(
            {"database_url": database_url, "offline": True, "redis_url": redis_clean, "rate_limit_search": "3/hour"}
        )
        async with app_client(settings) as one, app_client(settings) as two:
            statuses = [
                (await client.get("/search", params={"words": "a", "operator": "and"})).status_code
                for client in (one, two, one, two)
            ]
        assert statuses == [200, 200, 200, 429]

    async def test_redis_down_lets_requests_through_says_so_then_limits_again(
        self, redis_not_started: RedisProcess, database_url: str
    ) -> None:
        own_redis = redis_not_started
        settings = Settings.model_validate(
            {"database_url": database_url, "offline": True, "redis_url": own_redis.url, "rate_limit_search": "1/hour"}
        )
        async with app_client(settings) as client:
            before = (await client.get("/metrics")).text
            statuses = [
                (await client.get("/search", params={"words": "a", "operator": "and"})).status_code for _ in range(3)
            ]
            assert statuses == [200, 200, 200]
            after = (await client.get("/metrics")).text
            assert counter(after, "search", "failed_open") - counter(before, "search", "failed_open") == 3
            ready = await client.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["ratelimit"]["status"] == "degraded"

            own_redis.start()

            async def limited_again() -> bool:
                await client.get("/search", params={"words": "b", "operator": "and"})
                return (await client.get("/search", params={"words": "b", "operator": "and"})).status_code == 429

            await wait_until(limited_again, timeout_s=30)
            ready_json = (await client.get("/health/ready")).json()
            assert ready_json["checks"]["ratelimit"]["status"] == "ok"
