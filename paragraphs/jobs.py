"""Background jobs behind one protocol: Celery (PARAGRAPHS_BROKER_URL set) or an in-process runner.

Jobs are named `<feature>.<verb>`, take plain values, are idempotent, and have an `async def` body
`async def job(resources, **kwargs)` registered in JOBS. Celery cannot run coroutines: each worker
process keeps one event loop (an `asyncio.Runner`) and one set of resources built on it, made on the
first task it runs and closed when the process ends.

Sending never fails or slows the caller: Celery jobs are published in the background, and a broker
that is down is logged, counted and left alone for a few seconds; the write stands.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import math
import os
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Literal, Protocol

import stamina
import structlog
from celery import Celery, Task
from prometheus_client import Counter, Histogram

from paragraphs import worker_monitoring
from paragraphs.settings import Settings

if TYPE_CHECKING:
    from paragraphs.resources import Resources

log = structlog.get_logger(__name__)

JOB_OUTCOMES = Counter("paragraphs_jobs_total", "Background jobs by name and outcome.", ["job", "outcome"])
# One attempt's duration, failed ones included. Warming 100 words waits up to 60 s (dictionary/tasks.py).
JOB_SECONDS = Histogram(
    "paragraphs_job_duration_seconds",
    "Duration of one attempt of a background job.",
    ["job"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)

JobBody = Callable[..., Coroutine[Any, Any, None]]
JOBS: dict[str, JobBody] = {}
QueueState = Literal["ok", "degraded"]

PUBLISH_TIMEOUT_S = 3.0
BROKER_RETRY_AFTER_S = 5.0  # after a failed publish, as RedisCache waits after a Redis error
WORKER_CHECK_S = 5.0  # readiness pings the workers at most this often
WORKER_PING_TIMEOUT_S = 1.0
# No answer for this long: the queue is degraded (PARAGRAPHS_WORKER_SILENCE_S; a solo-pool worker
# cannot answer while it runs a job, a prefork one can).
WORKER_SILENCE_S = 15.0
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
        self._closed = False

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        if self._closed:
            return  # shutting down: a job started now would outlive the database pool
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
        if key in self._again and not done.cancelled() and not self._closed:
            self._again.discard(key)
            self._start(key, name, kwargs)

    async def _run(self, name: str, kwargs: dict[str, Any]) -> None:
        """Up to RETRIES attempts, 1 s doubling to at most 30 s between them, plus up to 1 s of jitter
        (stamina, as for HTTP calls and database writes)."""
        try:
            async for attempt in stamina.retry_context(
                on=Exception, attempts=RETRIES, timeout=None, wait_initial=1.0, wait_max=30.0, wait_jitter=1.0
            ):
                with attempt:
                    try:
                        with JOB_SECONDS.labels(name).time():
                            await JOBS[name](self._resources(), **kwargs)
                    except Exception as exc:
                        if attempt.num < RETRIES:  # another attempt follows; after the last one, `failed`
                            JOB_OUTCOMES.labels(name, "retry").inc()
                        log.warning("job failed", job=name, attempt=attempt.num, error=f"{type(exc).__name__}: {exc}")
                        raise
        except Exception:  # noqa: BLE001 - a job's failure is logged and retried, never raised
            JOB_OUTCOMES.labels(name, "failed").inc()
            return
        JOB_OUTCOMES.labels(name, "ok").inc()

    async def state(self) -> tuple[QueueState, str]:
        return "ok", f"in-process, {len(self._pending)} pending"

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class CeleryJobs:
    """Publishes to the broker in the background: a write never waits on the broker.

    At most one publish of a job is under way; a request meanwhile makes it publish once more when
    it ends (like InProcessJobs). After a failed publish the broker is left alone for
    `retry_after_s` (as RedisCache does with Redis): jobs asked for meanwhile are counted as
    `skipped`, not sent. Readiness pings the workers (at most every `WORKER_CHECK_S`) and reports the
    queue degraded when none has answered for `worker_silence_s`."""

    def __init__(
        self, app: Celery, *, retry_after_s: float = BROKER_RETRY_AFTER_S, worker_silence_s: float = WORKER_SILENCE_S
    ) -> None:
        self._app = app
        self._retry_after_s = retry_after_s
        self._worker_silence_s = worker_silence_s
        self._down_until = 0.0
        self._publishing: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._again: dict[tuple[str, str], dict[str, Any]] = {}
        self._worker_seen_at = -math.inf
        self._worker_checked_at = -math.inf
        self._worker_check: asyncio.Task[None] | None = None
        self._closed = False

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        self._request(name, kwargs)

    def _request(self, name: str, kwargs: dict[str, Any]) -> None:
        if self._closed:
            return
        if time.monotonic() < self._down_until:
            JOB_OUTCOMES.labels(name, "skipped").inc()
            return
        key = (name, repr(sorted(kwargs.items())))
        if key in self._publishing:
            self._again[key] = kwargs
            return
        task = asyncio.create_task(self._publish(name, kwargs), name=f"publish:{name}")
        self._publishing[key] = task
        task.add_done_callback(lambda _done: self._published(key, name))

    def _published(self, key: tuple[str, str], name: str) -> None:
        self._publishing.pop(key, None)
        kwargs = self._again.pop(key, None)
        if kwargs is not None:
            self._request(name, kwargs)

    async def _publish(self, name: str, kwargs: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send, name, kwargs), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a broken broker must never fail the write that sent the job
            self._down_until = time.monotonic() + self._retry_after_s
            JOB_OUTCOMES.labels(name, "not_sent").inc()
            log.warning(
                "job not sent", job=name, error=f"{type(exc).__name__}: {exc}"[:300], retry_in_s=self._retry_after_s
            )
        else:
            JOB_OUTCOMES.labels(name, "sent").inc()

    def _send(self, name: str, kwargs: dict[str, Any]) -> None:
        self._app.send_task(name, kwargs=kwargs, retry=False, headers=worker_monitoring.job_headers())

    async def state(self) -> tuple[QueueState, str]:
        def ping_broker() -> None:
            with self._app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=1)

        try:
            await asyncio.wait_for(asyncio.to_thread(ping_broker), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - any failure: the broker is unreachable
            return "degraded", f"broker unreachable, jobs are not sent: {type(exc).__name__}"[:300]
        self._down_until = 0.0
        await self._check_workers()
        silent_s = time.monotonic() - self._worker_seen_at
        if silent_s > self._worker_silence_s:
            since = "since this process started" if math.isinf(silent_s) else f"for {silent_s:.0f} s"
            return "degraded", f"no worker has answered {since}: jobs wait in the broker until one runs"
        return "ok", "celery, a worker answered"

    async def _check_workers(self) -> None:
        """Ping the workers if the last ping is older than WORKER_CHECK_S (one ping at a time)."""
        if self._worker_check is None and time.monotonic() - self._worker_checked_at >= WORKER_CHECK_S:
            self._worker_check = asyncio.create_task(self._ping_workers())
        if self._worker_check is not None:
            await asyncio.shield(self._worker_check)

    async def _ping_workers(self) -> None:
        try:
            replies = await asyncio.wait_for(
                asyncio.to_thread(self._app.control.ping, timeout=WORKER_PING_TIMEOUT_S, limit=1),
                WORKER_PING_TIMEOUT_S + PUBLISH_TIMEOUT_S,
            )
        except Exception as exc:  # noqa: BLE001 - a failed ping is a silent worker
            log.warning("worker ping failed", error=f"{type(exc).__name__}: {exc}"[:300])
            replies = []
        finally:
            self._worker_checked_at = time.monotonic()
            self._worker_check = None
        if replies:
            self._worker_seen_at = time.monotonic()

    async def close(self) -> None:
        self._closed = True
        pending = [*self._publishing.values(), *([self._worker_check] if self._worker_check else [])]
        await asyncio.gather(*pending, return_exceptions=True)


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
    @app.task(name=name, bind=True, max_retries=RETRIES, acks_late=True, shared=False)
    def run(task: Task[Any, Any], /, **kwargs: Any) -> None:
        try:
            runtime = _worker_runtime(settings)  # built on the first job: not part of its duration
            with JOB_SECONDS.labels(name).time():
                runtime.run(JOBS[name], kwargs, worker_monitoring.job_context(task.request))
        except Exception as exc:
            retries = int(task.request.retries or 0)
            if retries >= RETRIES:
                # The last attempt: no retry follows, so this run gave up (what the jobs-failing alert reads).
                JOB_OUTCOMES.labels(name, "failed").inc()
                log.error("job gave up", job=name, attempts=retries + 1, error=f"{type(exc).__name__}: {exc}"[:300])
                raise
            JOB_OUTCOMES.labels(name, "retry").inc()
            raise task.retry(exc=exc, countdown=retry_countdown_s(settings, retries)) from exc
        JOB_OUTCOMES.labels(name, "ok").inc()


def retry_countdown_s(settings: Settings, retries: int) -> float:
    """Seconds before attempt `retries + 2`: `job_retry_initial_s` doubling, at most a minute."""
    return min(settings.job_retry_initial_s * 2.0**retries, 60.0)


class _WorkerRuntime:
    """One event loop and one set of resources per worker process, built on first use."""

    def __init__(self, settings: Settings) -> None:
        from paragraphs.resources import open_resources

        self.pid = os.getpid()
        self._runner = asyncio.Runner()
        self._context = open_resources(settings, in_worker=True)
        self.resources: Resources = self._runner.run(self._context.__aenter__())
        atexit.register(self.close)

    def run(self, body: JobBody, kwargs: dict[str, Any], context: contextvars.Context | None = None) -> None:
        self._runner.run(body(self.resources, **kwargs), context=context)

    def close(self) -> None:
        self._runner.run(self._context.__aexit__(None, None, None))
        self._runner.close()


_runtime: _WorkerRuntime | None = None


def _worker_runtime(settings: Settings) -> _WorkerRuntime:
    global _runtime
    if _runtime is None or _runtime.pid != os.getpid():
        _runtime = _WorkerRuntime(settings)
    return _runtime


def run_worker(settings: Settings, concurrency: int, pool: str, metrics_port: int | None = None) -> None:
    app = celery_app(settings)
    worker_monitoring.use_our_logging(settings)
    if metrics_port is not None:
        worker_monitoring.serve_metrics(settings, metrics_port)
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
