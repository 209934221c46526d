"""Fixtures for end-to-end tests with a real Celery worker: brokers, fake upstreams, settings, the worker."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.server import cli_env, stop
from tests.fixtures.fake_dictionary import FakeDictionary
from tests.fixtures.fake_metaphorpsum import FakeMetaphorpsum
from tests.services import RABBITMQ_URL, REDIS_URL, missing, reachable

BROKERS = {"redis": REDIS_URL.rsplit("/", 1)[0] + "/14", "rabbitmq": RABBITMQ_URL}


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    if not reachable(url, 6379 if request.param == "redis" else 5672):
        missing(f"{request.param} broker", url)
    if request.param == "redis":  # no task left over from an earlier test
        redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def metaphorpsum() -> Iterator[FakeMetaphorpsum]:
    fake = FakeMetaphorpsum(seed=11)
    with fake.running():
        yield fake


@pytest.fixture
def settings_env(
    database_url: str,
    broker_url: str,
    redis_clean: str,
    fake_dictionary: FakeDictionary,
    metaphorpsum: FakeMetaphorpsum,
) -> dict[str, str]:
    return {
        "PARAGRAPHS_DATABASE_URL": database_url,
        "PARAGRAPHS_BROKER_URL": broker_url,
        "PARAGRAPHS_REDIS_URL": redis_clean,
        "PARAGRAPHS_DICTIONARY_URL": fake_dictionary.url,
        "PARAGRAPHS_METAPHORPSUM_URL": metaphorpsum.url,
        "PARAGRAPHS_UPSTREAM_TIMEOUT": "5",
    }


def start_worker(settings_env: dict[str, str], log_path: Path) -> subprocess.Popen[str]:
    """`paragraphs worker --pool solo`, its output appended to `log_path`."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "paragraphs", "worker", "--pool", "solo", "--concurrency", "1"],
            env=cli_env(settings_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.fixture
def worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_worker(settings_env, tmp_path / "worker.log")
    yield process
    stop(process)


def settings_from_env(settings_env: dict[str, str]) -> Settings:
    return Settings.model_validate(
        {key.removeprefix("PARAGRAPHS_").lower(): value for key, value in settings_env.items()}
    )


@pytest.fixture
async def client(settings_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings_from_env(settings_env)) as http:
        yield http
