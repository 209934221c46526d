"""The Celery worker observed: its metrics on a port of its own, its logs through our structlog set-up.

Jobs run in Celery's child processes, so their counters live there: with `paragraphs worker --metrics-port P`
the worker runs with `PROMETHEUS_MULTIPROC_DIR` (a fresh directory, made before any metric exists; the
command re-executes itself once to get it), and an exporter process serves every child's metrics summed,
plus the broker's queue depth read at each scrape.
"""

from __future__ import annotations

import contextvars
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection as Connection_
from typing import Any

import structlog
from asgi_correlation_id import correlation_id
from celery import signals
from kombu import Connection
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

    def __init__(self, broker_url: str, queue: str = DEFAULT_QUEUE) -> None:
        self._broker_url = broker_url
        self._queue = queue

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("paragraphs_queue_depth", "Jobs waiting in the broker's queue.", labels=["queue"])
        try:
            with Connection(self._broker_url, connect_timeout=2) as connection:
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


class ExporterFailed(Exception):
    """The metrics exporter could not start (the message says why)."""


EXPORTER_START_S = 10.0
PARENT_CHECK_S = 1.0


def serve_metrics(settings: Settings, port: int) -> None:
    """Serve every child's metrics (multiprocess collector) and the queue depth on `port`, from a process
    of its own.

    Not from a thread of the worker's main process: that process forks Celery's children, and a fork
    copies the locks other threads hold. A scrape thread asking the broker for the queue depth held a
    redis-py pool lock at the moment of a fork; the child's kombu after-fork hook then waited for that lock
    forever and never ran a job. The exporter is a spawned (not forked) process that ends with its parent.
    Raises `ExporterFailed` (the reason) when it cannot start, e.g. the port is taken."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    exporter = context.Process(
        target=_export,
        args=(settings.broker_url or "", port, settings.log_level, settings.log_json, os.getpid(), sender),
        name="paragraphs-worker-metrics",
        daemon=True,
    )
    exporter.start()
    sender.close()
    failure = receiver.recv() if receiver.poll(EXPORTER_START_S) else "it did not start in time"
    receiver.close()
    if failure is not None:
        exporter.terminate()
        raise ExporterFailed(f"cannot serve worker metrics on port {port}: {failure}; choose another --metrics-port")
    log.info("worker metrics", port=port, directory=os.environ.get(MULTIPROC_ENV), pid=exporter.pid)

    @signals.worker_process_shutdown.connect(weak=False)
    def _child_gone(pid: int | None = None, **_kwargs: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def _export(broker_url: str, port: int, log_level: str, log_json: bool, parent: int, ready: Connection_) -> None:
    """The exporter process: serve until the worker's main process is gone."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    configure_logging(log_level, json=log_json)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueDepthCollector(broker_url))
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:
        ready.send(exc.strerror or str(exc))
        return
    ready.send(None)
    ready.close()
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)


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
