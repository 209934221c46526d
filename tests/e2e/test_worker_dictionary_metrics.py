"""What a real prefork worker's children export after jobs ran: definitions by the level that answered
them, provider calls, a third party's 429s, database pool use, job durations; and a job that fails every
time ends as `failed` (what the jobs-failing alert reads), not as one more `retry`."""

from __future__ import annotations

from pathlib import Path

import pytest

from paragraphs.jobs import RETRIES
from paragraphs.resources import open_resources
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.worker_process import MetricsWorker, Samples, metrics_worker, worker_settings
from tests.fixtures.fake_dictionary import FakeDictionary, Mode

pytestmark = [pytest.mark.e2e, pytest.mark.celery]

WARM = "dictionary.warm_top_words"


@pytest.fixture
def settings_env(tmp_path: Path, fake_dictionary: FakeDictionary) -> dict[str, str]:
    return worker_settings(
        tmp_path,
        PARAGRAPHS_DICTIONARY_URL=fake_dictionary.url,
        PARAGRAPHS_UPSTREAM_TIMEOUT="5",
        PARAGRAPHS_JOB_RETRY_INITIAL_S="0.05",
    )


def settings_of(env: dict[str, str], **overrides: object) -> Settings:
    values: dict[str, object] = {key.removeprefix("PARAGRAPHS_").lower(): value for key, value in env.items()}
    return Settings.model_validate(values | overrides)


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_levels_providers_429s_pool_and_durations_are_exported(
    settings_env: dict[str, str], fake_dictionary: FakeDictionary, tmp_path: Path
) -> None:
    # `apple` and `pie` are in the durable table already (a restarted worker's memory is empty).
    async with open_resources(settings_of(settings_env, broker_url=None)) as resources:
        assert set(await resources.definitions.define(["apple", "pie"], 30)) == {"apple", "pie"}
    # dictionaryapi.dev refuses `and` (429, Retry-After 300 s: no retry): the offline stop-gap answers it.
    fake_dictionary.word_modes["and"] = Mode.RATE_LIMITED

    with metrics_worker(settings_env, tmp_path / "worker.log") as worker:
        async with app_client(settings_of(settings_env)) as client:
            assert (await client.post("/paragraphs", json={"content": "apple pie and apple tart"})).status_code == 201
            await worker.wait_for("paragraphs_jobs_total", {"job": WARM, "outcome": "ok"}, 1)
            # The second run finds `apple`, `pie`, `tart` in the child's memory (no Redis cache here); a
            # new top word (`crust`) makes it look (a run that finds the same top words warm stops early).
            assert (await client.post("/paragraphs", json={"content": "tart and pie crust"})).status_code == 201
            scraped = await worker.wait_for("paragraphs_jobs_total", {"job": WARM, "outcome": "ok"}, 2)
        assert_exported(scraped, worker)


def assert_exported(scraped: Samples, worker: MetricsWorker) -> None:
    hits = "paragraphs_cache_hits_total"
    assert value(scraped, hits, feature="definition", level="table") >= 2, worker.log()  # apple, pie
    assert value(scraped, hits, feature="definition", level="provider") >= 2  # tart, and (stop-gap)
    assert value(scraped, hits, feature="definition", level="memory") >= 3  # apple, pie, tart
    calls = "paragraphs_dictionary_provider_calls_total"
    assert value(scraped, calls, provider="dictionaryapi", outcome="found") >= 1
    assert value(scraped, calls, provider="dictionaryapi", outcome="failed") >= 1
    assert value(scraped, calls, provider="offline", outcome="found") >= 1
    assert value(scraped, "paragraphs_upstream_rate_limited_total", upstream="dictionaryapi") >= 1
    # One child with one Database: its pools' capacity, and nothing held once the jobs are done.
    assert value(scraped, "paragraphs_db_pool_size", pool="read") == Settings.model_fields["database_pool_size"].default
    assert value(scraped, "paragraphs_db_pool_size", pool="write") == 1
    assert value(scraped, "paragraphs_db_pool_checked_out", pool="read") == 0
    assert value(scraped, "paragraphs_db_pool_checked_out", pool="write") == 0
    assert value(scraped, "paragraphs_job_duration_seconds_count", job=WARM) >= 2
    # Summed over processes: one sample per label set, no `pid` label.
    assert not [key for key in scraped if any(label == "pid" for label, _ in key[1])]


async def test_a_job_failing_every_time_is_counted_failed_once(
    settings_env: dict[str, str], fake_dictionary: FakeDictionary, tmp_path: Path
) -> None:
    fake_dictionary.mode = Mode.RATE_LIMITED  # every word refused, and no offline fallback to stand in
    settings_env["PARAGRAPHS_DICTIONARY_FALLBACK"] = "false"
    with metrics_worker(settings_env, tmp_path / "worker.log") as worker:
        async with app_client(settings_of(settings_env)) as client:
            assert (await client.post("/paragraphs", json={"content": "quince jam"})).status_code == 201
            scraped = await worker.wait_for("paragraphs_jobs_total", {"job": WARM, "outcome": "failed"}, 1)
    assert value(scraped, "paragraphs_jobs_total", job=WARM, outcome="failed") == 1
    assert value(scraped, "paragraphs_jobs_total", job=WARM, outcome="retry") == RETRIES
    assert value(scraped, "paragraphs_jobs_total", job=WARM, outcome="ok") == 0
    assert '"job gave up"' in worker.log(20_000)
