"""The in-process job runner: retries, and coalescing that never drops a request made during a run."""

from __future__ import annotations

import asyncio

from paragraphs import jobs
from paragraphs.jobs import InProcessJobs
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
