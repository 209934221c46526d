"""The Celery worker observed: its metrics on a port of its own, its logs through our structlog set-up.

Jobs run in Celery's child processes, so their counters live there: with `paragraphs worker --metrics-port P`
the worker runs with `PROMETHEUS_MULTIPROC_DIR` (a fresh directory, made before any metric exists; the
command re-executes itself once to get it), and the main process serves every child's metrics summed, plus
the broker's queue depth read at each scrape.
"""

from __future__ import annotations

import contextvars
import os
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

import structlog
from asgi_correlation_id import correlation_id
from celery import Celery, signals
from kombu.exceptions import ChannelError

from paragraphs.logs import configure_logging
from paragraphs.settings import Settings

log = structlog.get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_QUEUE = "celery"


def reexec_with_metrics_directory() -> None:
    """Make a fresh metrics directory and run this command again with it (never returns), unless done already.

    prometheus_client chooses per-process or shared-file values when it is first imported, which the CLI
    has done by now: a new process is the only way to switch."""
    if os.environ.get(MULTIPROC_ENV):
        return
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="paragraphs-worker-metrics-")
    os.execv(sys.executable, [sys.executable, "-m", "paragraphs", *sys.argv[1:]])  # noqa: S606 - ourselves again


class QueueDepthCollector:
    """`paragraphs_queue_depth{queue}`: messages waiting in the broker, asked at each scrape."""

    def __init__(self, app: Celery, queue: str = DEFAULT_QUEUE) -> None:
        self._app = app
        self._queue = queue

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("paragraphs_queue_depth", "Jobs waiting in the broker's queue.", labels=["queue"])
        try:
            with self._app.connection_for_read() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
                channel: Any = connection.default_channel
                family.add_metric([self._queue], float(self._depth(channel)))
        except Exception as exc:  # noqa: BLE001 - a broker that cannot be asked leaves the gauge out, says why
            log.warning("queue depth unknown", queue=self._queue, error=f"{type(exc).__name__}: {exc}"[:200])
        yield family

    def _depth(self, channel: Any) -> int:
        try:
            declared = channel.queue_declare(queue=self._queue, passive=True)
        except ChannelError as exc:
            # Redis drops an empty list, and a queue no worker declared yet does not exist: nothing waits.
            if "NOT_FOUND" in str(exc):
                return 0
            raise
        return int(declared.message_count)


def serve_metrics(app: Celery, port: int) -> None:
    """In the worker's main process: every child's metrics (multiprocess collector) and the queue depth."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueDepthCollector(app))
    start_http_server(port, registry=registry)
    log.info("worker metrics", port=port, directory=os.environ.get(MULTIPROC_ENV))

    @signals.worker_process_shutdown.connect(weak=False)
    def _child_gone(pid: int | None = None, **_kwargs: Any) -> None:
        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def use_our_logging(settings: Settings) -> None:
    """Celery configures logging itself unless someone answers `setup_logging`: we do, with our set-up."""

    @signals.setup_logging.connect(weak=False)
    def _configure(**_kwargs: Any) -> None:
        configure_logging(settings.log_level, json=settings.log_json)


REQUEST_ID_HEADER = "paragraphs_request_id"


def job_headers() -> dict[str, str]:
    """Message headers for a job sent now: the request id of the request sending it, if any."""
    request_id = correlation_id.get()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


def job_context(request: Any) -> contextvars.Context:
    """The context a job's body runs in: the sending request's id set, so the job's log lines carry it."""
    request_id = getattr(request, REQUEST_ID_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        REQUEST_ID_HEADER
    )
    context = contextvars.copy_context()
    if isinstance(request_id, str):
        context.run(correlation_id.set, request_id)
    return context
