"""The in-process job runner: retries, and coalescing that never drops a request made during a run."""

from __future__ import annotations

import asyncio

import stamina
from prometheus_client import REGISTRY

from paragraphs import jobs
from paragraphs.jobs import CeleryJobs, InProcessJobs, celery_app
from paragraphs.settings import Settings
from tests.waiting import eventually


class TestInProcessJobs:
    async def test_requests_during_a_run_make_exactly_one_more_run(self) -> None:
        runs: list[int] = []
        release = asyncio.Event()

        async def body(_resources: object, n: int) -> None:
            runs.append(n)
            await release.wait()

        jobs.JOBS["test.coalesce"] = body
        runner = InProcessJobs(lambda: None)  # type: ignore[arg-type, return-value]
        try:
            await runner.enqueue("test.coalesce", n=1)
            await eventually(lambda: len(runs) == 1)
            for _ in range(5):  # writes while the first run is under way
                await runner.enqueue("test.coalesce", n=1)
            release.set()
            await eventually(lambda: len(runs) == 2)
            await asyncio.sleep(0.05)
            assert runs == [1, 1]
        finally:
            await runner.close()
            del jobs.JOBS["test.coalesce"]

    async def test_a_failing_job_is_retried(self) -> None:
        attempts: list[int] = []

        async def flaky(_resources: object) -> None:
            attempts.append(1)
            if len(attempts) < 2:
                raise RuntimeError("first time fails")

        jobs.JOBS["test.flaky"] = flaky
        runner = InProcessJobs(lambda: None)  # type: ignore[arg-type, return-value]
        try:
            await runner.enqueue("test.flaky")
            await eventually(lambda: len(attempts) == 2, timeout_s=5)
        finally:
            await runner.close()
            del jobs.JOBS["test.flaky"]

    async def test_a_job_failing_every_time_counts_a_retry_per_attempt_but_the_last_then_failed(self) -> None:
        attempts: list[int] = []

        async def broken(_resources: object) -> None:
            attempts.append(1)
            raise RuntimeError("always")

        jobs.JOBS["test.broken"] = broken
        runner = InProcessJobs(lambda: None)  # type: ignore[arg-type, return-value]
        stamina.set_testing(True, attempts=jobs.RETRIES)  # the attempts, without the waits between them
        try:
            await runner.enqueue("test.broken")
            await eventually(lambda: jobs_total("test.broken", "failed") == 1, timeout_s=5)
            assert len(attempts) == jobs.RETRIES
            assert jobs_total("test.broken", "retry") == jobs.RETRIES - 1
            assert jobs_total("test.broken", "ok") == 0
        finally:
            stamina.set_testing(False)
            await runner.close()
            del jobs.JOBS["test.broken"]

    async def test_nothing_runs_after_close(self) -> None:
        """A run that ends normally as close() cancels it (here: it swallows the cancellation) must not
        start its queued re-run: a job started during shutdown outlived the database pool and leaked
        a connection (an intermittent `unclosed connection` warning in the suite)."""
        started: list[int] = []
        running = asyncio.Event()

        async def body(_resources: object) -> None:
            started.append(1)
            running.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                return  # finished just as it was cancelled

        jobs.JOBS["test.shutdown"] = body
        runner = InProcessJobs(lambda: None)  # type: ignore[arg-type, return-value]
        try:
            await runner.enqueue("test.shutdown")
            await running.wait()
            await runner.enqueue("test.shutdown")  # asks for one more run
            await runner.close()
            await runner.enqueue("test.shutdown")  # after close: ignored
            await asyncio.sleep(0.05)
            assert started == [1]
            assert not [task for task in asyncio.all_tasks() if task.get_name() == "job:test.shutdown"]
        finally:
            del jobs.JOBS["test.shutdown"]


def jobs_total(job: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("paragraphs_jobs_total", {"job": job, "outcome": outcome}) or 0.0


class TestCeleryJobsWithTheBrokerDown:
    async def test_after_a_failed_publish_jobs_are_skipped_and_counted_not_sent(self) -> None:
        settings = Settings(broker_url="redis://127.0.0.1:1/0", _env_file=None)  # nothing listens on port 1
        queue = CeleryJobs(celery_app(settings), retry_after_s=60)
        name = "dictionary.warm_top_words"
        not_sent, skipped = jobs_total(name, "not_sent"), jobs_total(name, "skipped")
        try:
            await queue.enqueue(name)  # returns at once: the publish runs in the background
            await eventually(lambda: jobs_total(name, "not_sent") == not_sent + 1)
            for _ in range(10):
                await queue.enqueue(name)
            assert jobs_total(name, "skipped") == skipped + 10
            assert jobs_total(name, "not_sent") == not_sent + 1  # the broker was not tried again
            state, detail = await queue.state()
            assert state == "degraded"
            assert "broker unreachable" in detail
        finally:
            await queue.close()
