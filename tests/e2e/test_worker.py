"""A real Celery worker process (Redis and RabbitMQ brokers) warms definitions after a write."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from paragraphs import text
from paragraphs.db.engine import Database
from paragraphs.db.models import Definition
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.fixtures.fake_dictionary import FakeDictionary


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
        deadline = time.monotonic() + 60  # "ok" once the worker answers a ping
        while (await client.get("/health/ready")).json()["checks"]["queue"]["status"] != "ok":
            assert time.monotonic() < deadline, f"no worker answered\n{worker_log.read_text()[-3000:]}"
            await asyncio.sleep(0.2)
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
