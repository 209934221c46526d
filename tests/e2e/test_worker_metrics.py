"""`paragraphs worker --metrics-port`: a real prefork worker exports its children's job outcomes and the
queue depth, and logs JSON lines through our logging set-up, a job's lines with the request id of the
write that sent it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.server import cli_env, free_port, stop
from tests.services import REDIS_URL, missing, reachable

pytestmark = [pytest.mark.e2e, pytest.mark.celery]

BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + "/13"


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    if not reachable(BROKER_URL, 6379):
        missing("redis broker", BROKER_URL)
    redis.Redis.from_url(BROKER_URL).flushdb()
    return {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
        "PARAGRAPHS_BROKER_URL": BROKER_URL,
        "PARAGRAPHS_OFFLINE": "true",
        "PARAGRAPHS_LOG_JSON": "true",
    }


@pytest.fixture
def worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "paragraphs", "worker", "--concurrency", "1", "--metrics-port", str(port)],
            env=cli_env(settings_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield f"http://127.0.0.1:{port}/metrics", log_path
    finally:
        stop(process)


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.TransportError:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_job_outcomes_and_queue_depth_are_exported(
    settings_env: dict[str, str], worker: tuple[str, Path]
) -> None:
    metrics_url, log_path = worker
    settings = Settings.model_validate(
        {key.removeprefix("PARAGRAPHS_").lower(): value for key, value in settings_env.items()}
    )
    async with app_client(settings) as client:
        created = await client.post("/paragraphs", json={"content": "apple pie and apple tart"})
        assert created.status_code == 201
        request_id = created.headers["X-Request-ID"]

    ok = ("paragraphs_jobs_total", (("job", "dictionary.warm_top_words"), ("outcome", "ok")))
    depth = ("paragraphs_queue_depth", (("queue", "celery"),))
    deadline = time.monotonic() + 90
    scraped = samples(metrics_url)
    while scraped.get(ok, 0) < 1:
        assert time.monotonic() < deadline, f"no job outcome exported in 90 s:\n{log_path.read_text()[-3000:]}"
        await asyncio.sleep(0.3)
        scraped = samples(metrics_url)
    assert scraped[depth] == 0  # the job was taken; nothing waits

    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    events = [json.loads(line) for line in lines]
    assert any(event.get("event") == "worker metrics" for event in events)
    assert all("timestamp" in event and "level" in event for event in events)
    # The job's own lines carry the request id of the write that sent it.
    job_lines = [event for event in events if event.get("event") == "warmed top words"]
    assert job_lines
    assert {event.get("request_id") for event in job_lines} == {request_id}
