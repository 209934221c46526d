"""`paragraphs worker --metrics-port`: a real prefork worker exports its children's job outcomes and the
queue depth, and logs JSON lines through our logging set-up, a job's lines with the request id of the
write that sent it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.server import cli_env
from tests.e2e.worker_process import MetricsWorker, metrics_worker, worker_settings

pytestmark = [pytest.mark.e2e, pytest.mark.celery]


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    return worker_settings(tmp_path, PARAGRAPHS_OFFLINE="true")


@pytest.fixture
def worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[MetricsWorker]:
    with metrics_worker(settings_env, tmp_path / "worker.log") as running:
        yield running


async def test_job_outcomes_and_queue_depth_are_exported(settings_env: dict[str, str], worker: MetricsWorker) -> None:
    settings = Settings.model_validate(
        {key.removeprefix("PARAGRAPHS_").lower(): value for key, value in settings_env.items()}
    )
    async with app_client(settings) as client:
        created = await client.post("/paragraphs", json={"content": "apple pie and apple tart"})
        assert created.status_code == 201
        request_id = created.headers["X-Request-ID"]

    scraped = await worker.wait_for(
        "paragraphs_jobs_total", {"job": "dictionary.warm_top_words", "outcome": "ok"}, at_least=1
    )
    assert scraped[("paragraphs_queue_depth", (("queue", "celery"),))] == 0  # the job was taken; nothing waits

    lines = [line for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    events = [json.loads(line) for line in lines]
    assert any(event.get("event") == "worker metrics" for event in events)
    assert all("timestamp" in event and "level" in event for event in events)
    # The job's own lines carry the request id of the write that sent it.
    job_lines = [event for event in events if event.get("event") == "warmed top words"]
    assert job_lines
    assert {event.get("request_id") for event in job_lines} == {request_id}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_the_process_that_forks_children_runs_no_other_thread(worker: MetricsWorker) -> None:
    """A thread in the process that forks Celery's children can hold a lock at the moment of a fork, and the
    child then waits for it forever (a scrape thread's redis-py pool lock did: the child never ran a job).
    So the worker's main process runs one thread, and the metrics come from an exporter process."""
    serving(worker)
    main = worker.process.pid  # the command re-executes itself in place: the same process
    assert os.listdir(f"/proc/{main}/task") == [str(main)]


def serving(worker: MetricsWorker) -> None:
    deadline = time.monotonic() + 60
    while not worker.samples():
        assert worker.process.poll() is None, f"worker exited:\n{worker.log()}"
        assert time.monotonic() < deadline, f"the worker's metrics never answered:\n{worker.log()}"
        time.sleep(0.2)


def test_the_exporter_ends_with_the_worker(worker: MetricsWorker) -> None:
    serving(worker)
    worker.process.kill()  # no clean shutdown: the exporter notices by itself
    worker.process.wait()
    deadline = time.monotonic() + 30
    while worker.samples():
        assert time.monotonic() < deadline, "the exporter outlived its worker"
        time.sleep(0.2)


def test_a_taken_metrics_port_is_one_clear_error(settings_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "paragraphs", "worker", "--concurrency", "1", "--metrics-port", str(port)],
            env=cli_env(settings_env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: cannot serve worker metrics on port {port}: Address already in use; choose another --metrics-port"
    ]
    assert "Traceback" not in result.stderr
