"""Fault test 7(d): the only Celery worker is killed. Readiness says so; writes go on; the jobs sent
meanwhile wait in the broker and run when a worker is back (Redis and RabbitMQ brokers)."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from paragraphs import text
from paragraphs.db.engine import Database
from tests.apps import app_client
from tests.e2e.conftest import settings_from_env, start_worker
from tests.e2e.server import stop
from tests.e2e.test_worker import defined_words

SILENCE_S = 3  # PARAGRAPHS_WORKER_SILENCE_S for this test: no answer for 3 s is "degraded"


@pytest.fixture
def fault_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PARAGRAPHS_WORKER_SILENCE_S": str(SILENCE_S)}


@pytest.fixture
async def fault_client(fault_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings_from_env(fault_env)) as http:
        yield http


@pytest.fixture
def workers(fault_env: dict[str, str], tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop(process)


async def queue_state(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.get("/health/ready")
    assert response.status_code == 200  # a missing worker never makes the service unready
    state = response.json()["checks"]["queue"]
    assert isinstance(state, dict)
    return state


async def eventually_queue(client: httpx.AsyncClient, status: str, timeout_s: float = 60.0) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (state := await queue_state(client))["status"] != status:
        assert asyncio.get_running_loop().time() < deadline, f"queue stayed {state}"
        await asyncio.sleep(0.2)
    return state


@pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
class TestWorkerKilled:
    async def test_readiness_says_so_and_jobs_run_when_it_is_back(
        self,
        db: Database,
        fault_env: dict[str, str],
        fault_client: httpx.AsyncClient,
        workers: list[subprocess.Popen[str]],
        tmp_path: Path,
    ) -> None:
        log = tmp_path / "worker.log"
        workers.append(start_worker(fault_env, log))
        await eventually_queue(fault_client, "ok")

        workers[0].kill()  # SIGKILL: no goodbye to the broker
        workers[0].wait()
        state = await eventually_queue(fault_client, "degraded")
        assert "no worker has answered" in state["detail"]

        response = await fault_client.post("/fetch")  # the broker is up: the job is sent and waits
        assert response.status_code == 201
        assert await defined_words(db) == set()
        counts = Counter(text.words(response.json()["content"]))
        top = {word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:10]}

        workers.append(start_worker(fault_env, log))
        deadline = asyncio.get_running_loop().time() + 60
        while not top <= await defined_words(db):
            assert workers[1].poll() is None, f"worker died:\n{log.read_text()[-3000:]}"
            assert asyncio.get_running_loop().time() < deadline, f"job did not run:\n{log.read_text()[-3000:]}"
            await asyncio.sleep(0.2)
        await eventually_queue(fault_client, "ok")
