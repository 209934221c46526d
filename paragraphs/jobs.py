"""Background jobs behind one protocol: Celery (PARAGRAPHS_BROKER_URL set) or an in-process runner.

Jobs are named `<feature>.<verb>`, take plain values, are idempotent, and have an `async def` body
`async def job(resources, **kwargs)` registered in JOBS. Celery cannot run coroutines: each worker
process keeps one event loop (an `asyncio.Runner`) and one set of resources built on it, made on the
first task it runs and closed when the process ends.

Sending never fails the caller: a broker that is down is logged and counted, the write stands.
"""

from __future__ import annotations

import asyncio
import atexit
import os
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, Protocol

import structlog
from celery import Celery, Task
from prometheus_client import Counter

from paragraphs.settings import Settings

if TYPE_CHECKING:
    from paragraphs.resources import Resources

log = structlog.get_logger(__name__)

JOB_OUTCOMES = Counter("paragraphs_jobs_total", "Background jobs by name and outcome.", ["job", "outcome"])

JobBody = Callable[..., Coroutine[Any, Any, None]]
JOBS: dict[str, JobBody] = {}
QueueState = Literal["ok", "degraded"]

PUBLISH_TIMEOUT_S = 3.0
RETRIES = 5


def job(name: str) -> Callable[[JobBody], JobBody]:
    def register(body: JobBody) -> JobBody:
        JOBS[name] = body
        return body

    return register


class JobQueue(Protocol):
    async def enqueue(self, name: str, **kwargs: Any) -> None: ...

    async def state(self) -> tuple[QueueState, str]: ...

    async def close(self) -> None: ...


class InProcessJobs:
    """Runs jobs as asyncio tasks in this process, with retries and backoff. A burst of writes asks
    for one run, not a thousand: while a run is under way, more requests for the same job and
    arguments make it run once more when it ends (it may have read the state before them)."""

    def __init__(self, resources_getter: Callable[[], Resources]) -> None:
        self._resources = resources_getter
        self._pending: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._again: set[tuple[str, str]] = set()

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        key = (name, repr(sorted(kwargs.items())))
        if key in self._pending:
            self._again.add(key)
            return
        self._start(key, name, kwargs)

    def _start(self, key: tuple[str, str], name: str, kwargs: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run(name, kwargs), name=f"job:{name}")
        self._pending[key] = task
        task.add_done_callback(lambda done: self._finished(key, name, kwargs, done))

    def _finished(self, key: tuple[str, str], name: str, kwargs: dict[str, Any], done: asyncio.Task[None]) -> None:
        self._pending.pop(key, None)
        if key in self._again and not done.cancelled():
            self._again.discard(key)
            self._start(key, name, kwargs)

    async def _run(self, name: str, kwargs: dict[str, Any]) -> None:
        for attempt in range(RETRIES):
            try:
                await JOBS[name](self._resources(), **kwargs)
            except Exception as exc:  # noqa: BLE001 - a job's failure is logged and retried, never raised
                JOB_OUTCOMES.labels(name, "retry").inc()
                log.warning("job failed", job=name, attempt=attempt + 1, error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(min(2.0**attempt, 30.0))
            else:
                JOB_OUTCOMES.labels(name, "ok").inc()
                return
        JOB_OUTCOMES.labels(name, "failed").inc()

    async def state(self) -> tuple[QueueState, str]:
        return "ok", f"in-process, {len(self._pending)} pending"

    async def close(self) -> None:
        for task in self._pending.values():
            task.cancel()
        await asyncio.gather(*self._pending.values(), return_exceptions=True)


class CeleryJobs:
    """Publishes to the broker from a thread (kombu blocks), with a short timeout and no retries."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send, name, kwargs), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a broken broker must never fail the write that sent the job
            JOB_OUTCOMES.labels(name, "not_sent").inc()
            log.warning("job not sent", job=name, error=f"{type(exc).__name__}: {exc}"[:300])
        else:
            JOB_OUTCOMES.labels(name, "sent").inc()

    def _send(self, name: str, kwargs: dict[str, Any]) -> None:
        self._app.send_task(name, kwargs=kwargs, retry=False)

    async def state(self) -> tuple[QueueState, str]:
        def ping() -> None:
            with self._app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=1)

        try:
            await asyncio.wait_for(asyncio.to_thread(ping), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - any failure: the broker is unreachable
            return "degraded", f"broker unreachable, jobs are not sent: {type(exc).__name__}"[:300]
        return "ok", "celery"

    async def close(self) -> None:
        return None


def celery_app(settings: Settings) -> Celery:
    app = Celery("paragraphs", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a worker that dies mid-job leaves it for another (jobs are idempotent)
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
    )
    for name in JOBS:
        _register(app, name, settings)
    return app


def _register(app: Celery, name: str, settings: Settings) -> None:
    @app.task(name=name, bind=True, max_retries=RETRIES, acks_late=True)
    def run(task: Task[Any, Any], /, **kwargs: Any) -> None:
        try:
            _worker_runtime(settings).run(JOBS[name], kwargs)
        except Exception as exc:
            JOB_OUTCOMES.labels(name, "retry").inc()
            raise task.retry(exc=exc, countdown=min(2**task.request.retries, 60)) from exc
        JOB_OUTCOMES.labels(name, "ok").inc()


class _WorkerRuntime:
    """One event loop and one set of resources per worker process, built on first use."""

    def __init__(self, settings: Settings) -> None:
        from paragraphs.resources import open_resources

        self.pid = os.getpid()
        self._runner = asyncio.Runner()
        self._context = open_resources(settings, in_worker=True)
        self.resources: Resources = self._runner.run(self._context.__aenter__())
        atexit.register(self.close)

    def run(self, body: JobBody, kwargs: dict[str, Any]) -> None:
        self._runner.run(body(self.resources, **kwargs))

    def close(self) -> None:
        self._runner.run(self._context.__aexit__(None, None, None))
        self._runner.close()


_runtime: _WorkerRuntime | None = None


def _worker_runtime(settings: Settings) -> _WorkerRuntime:
    global _runtime
    if _runtime is None or _runtime.pid != os.getpid():
        _runtime = _WorkerRuntime(settings)
    return _runtime


def run_worker(settings: Settings, concurrency: int, pool: str) -> None:
    app = celery_app(settings)
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
