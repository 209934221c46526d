"""A real Celery worker process (Redis and RabbitMQ brokers) warms definitions after a write."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import select

from paragraphs import text
from paragraphs.db.engine import Database
from paragraphs.db.models import Definition
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


@pytest.fixture
def worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "paragraphs", "worker", "--pool", "solo", "--concurrency", "1"],
        env=cli_env(settings_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    stop(process)
    log.close()


@pytest.fixture
async def client(settings_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.model_validate(
        {key.removeprefix("PARAGRAPHS_").lower(): value for key, value in settings_env.items()}
    )
    async with app_client(settings) as http:
        yield http


async def defined_words(db: Database) -> set[str]:
    async with db.read() as session:
        return set(await session.scalars(select(Definition.word)))


class TestWorkerWarmsDefinitions:
    async def test_after_fetch_the_top_words_are_defined_without_any_dictionary_call(
        self,
        db: Database,
        client: httpx.AsyncClient,
        worker: subprocess.Popen[str],
        fake_dictionary: FakeDictionary,
        tmp_path: Path,
    ) -> None:
        worker_log = tmp_path / "worker.log"
        assert (await client.get("/health/ready")).json()["checks"]["queue"]["status"] == "ok"
        response = await client.post("/fetch")
        assert response.status_code == 201
        counts = Counter(text.words(response.json()["content"]))
        top = {word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not top <= await defined_words(db):
            assert worker.poll() is None, "worker died"
            await asyncio.sleep(0.2)
        missing_words = top - await defined_words(db)
        assert not missing_words, f"not warmed: {missing_words}\n{worker_log.read_text()[-3000:]}"
        # The words are warm: /dictionary asks the provider nothing for them. (The worker may still be
        # defining the rest of the top 100, so count per word, not in total.)
        asked = {word: fake_dictionary.requests_for(word) for word in top}
        assert asked == dict.fromkeys(top, 1)
        words = (await client.get("/dictionary")).json()["words"]
        assert {word["word"] for word in words} == top
        assert all(word["definitions"] for word in words)
        assert {word: fake_dictionary.requests_for(word) for word in top} == asked


class TestBrokenBroker:
    async def test_a_write_succeeds_and_readiness_says_the_queue_is_degraded(self, database_url: str) -> None:
        settings = Settings(database_url=database_url, offline=True, broker_url="redis://127.0.0.1:1/0", _env_file=None)
        async with app_client(settings) as http:
            started = time.monotonic()
            assert (await http.post("/paragraphs", json={"content": "still stored"})).status_code == 201
            assert time.monotonic() - started < 5
            ready = await http.get("/health/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"]["queue"]["status"] == "degraded"
