"""/metrics: labels come from our routes and methods, never from what a client invents; pool, cache-level
and provider metrics follow what happened."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY, Gauge
from sqlalchemy import text

from paragraphs.cache import MemoryCache, feature_of
from paragraphs.db.engine import create_database
from paragraphs.dictionary.providers.counted import CountedProvider
from paragraphs.dictionary.providers.offline import OfflineDictionary
from paragraphs.http_metrics import method_label


class TestMethodLabel:
    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
    def test_standard_methods_are_kept(self, method: str) -> None:
        assert method_label(method) == method

    @pytest.mark.parametrize("method", ["FOO", "get", "PROPFIND", "X" * 100])
    def test_anything_else_is_other(self, method: str) -> None:
        assert method_label(method) == "other"


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
class TestScrape:
    async def test_invented_methods_and_paths_add_no_series(self, client: httpx.AsyncClient) -> None:
        marker = uuid.uuid4().hex[:8].upper()
        invented = [f"M{marker}{i}" for i in range(20)]
        for method in invented:
            assert (await client.request(method, "/paragraphs")).status_code == 405
        paths = [f"/nothing-{marker.lower()}-{i}" for i in range(20)]
        for path in paths:
            assert (await client.get(path)).status_code == 404
        scrape = (await client.get("/metrics")).text
        assert marker not in scrape
        assert marker.lower() not in scrape
        assert 'handler="/paragraphs",method="other",status="405"' in scrape
        assert 'handler="none",method="GET",status="404"' in scrape


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestPoolGauges:
    async def test_checked_out_follows_sessions_and_size_follows_the_database(self, tmp_path: Path) -> None:
        size_before = sample("paragraphs_db_pool_size", pool="read")
        out_before = sample("paragraphs_db_pool_checked_out", pool="read")
        db = create_database(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=3)
        try:
            assert sample("paragraphs_db_pool_size", pool="read") == size_before + 3
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                assert sample("paragraphs_db_pool_checked_out", pool="read") == out_before + 1
            assert sample("paragraphs_db_pool_checked_out", pool="read") == out_before
        finally:
            await db.dispose()
        assert sample("paragraphs_db_pool_size", pool="read") == size_before


class TestCacheHitsByLevel:
    async def test_the_memory_cache_counts_its_hits_under_the_key_feature(self) -> None:
        cache = MemoryCache()
        before = sample("paragraphs_cache_hits_total", feature="search", level="memory")
        await cache.set("paragraphs:search:1:abc", b"x", 60)
        assert await cache.get("paragraphs:search:1:abc") == b"x"
        assert await cache.get("paragraphs:search:1:other") is None  # a miss is not a hit
        assert sample("paragraphs_cache_hits_total", feature="search", level="memory") == before + 1

    def test_the_feature_is_the_key_second_part(self) -> None:
        assert feature_of("paragraphs:definition:word:42") == "definition"
        assert feature_of("somebody-else:key") == "other"


class TestProviderCalls:
    async def test_each_answer_is_counted_by_outcome(self) -> None:
        provider = CountedProvider(OfflineDictionary())
        found = sample("paragraphs_dictionary_provider_calls_total", provider="offline", outcome="found")
        not_found = sample("paragraphs_dictionary_provider_calls_total", provider="offline", outcome="not_found")
        assert await provider.lookup("the") is not None
        assert await provider.lookup("zzzxqj") is None
        assert sample("paragraphs_dictionary_provider_calls_total", provider="offline", outcome="found") == found + 1
        assert (
            sample("paragraphs_dictionary_provider_calls_total", provider="offline", outcome="not_found")
            == not_found + 1
        )


class TestGaugeModes:
    def test_every_gauge_of_ours_says_how_processes_combine(self) -> None:
        """A gauge left in the default mode (`all`) is one series per process, with a `pid` label, under
        `serve --workers N` and in the worker (docs/operations.md, "Gauges across processes")."""
        for module in ("paragraphs.app", "paragraphs.jobs"):  # every metric of the service registered
            importlib.import_module(module)
        gauges = {
            collector._name: collector._multiprocess_mode
            for collector in list(REGISTRY._collector_to_names)
            if isinstance(collector, Gauge)
        }
        assert gauges == {
            "paragraphs_db_pool_checked_out": "livesum",
            "paragraphs_db_pool_size": "livesum",
            "paragraphs_upstream_circuit_open": "livemax",
            "paragraphs_dependency_up": "livemostrecent",
        }
