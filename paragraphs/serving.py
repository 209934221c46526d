"""Running the API: how many processes, and metrics that add up across them (docs/operations.md).

`paragraphs serve --workers N` hands uvicorn the import string of the app factory
(`paragraphs.app:factory`); each worker process builds its own app from the same settings. With more
than one process, Prometheus metrics live in memory-mapped files in `PROMETHEUS_MULTIPROC_DIR`, which
`/metrics` sums over every process: `serve` makes that directory (or empties the one given) before
the workers start and removes the one it made when they have stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paragraphs.db.engine import dialect_of
from paragraphs.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
APP_FACTORY = "paragraphs.app:factory"


def default_workers(settings: Settings) -> int:
    """One process per core on PostgreSQL; one on SQLite, the embedded default (see docs/operations.md)."""
    if settings.workers is not None:
        return settings.workers
    if dialect_of(settings.database_url) == "sqlite":
        return 1
    return max(os.cpu_count() or 1, 1)


@contextmanager
def multiprocess_metrics(workers: int) -> Iterator[Path | None]:
    """Set `PROMETHEUS_MULTIPROC_DIR` for the worker processes to inherit, empty at the start.

    A directory given by the operator is emptied of metric files (values left by a previous run
    would be added to this one's) and kept; otherwise a temporary one is made and removed at the end.
    One process keeps its metrics in memory, unless the operator set a directory.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    if workers == 1:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="paragraphs-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def run(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve until stopped: uvicorn with uvloop and httptools, `workers` processes."""
    import uvicorn

    with multiprocess_metrics(workers):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            workers=workers,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            # X-Forwarded-For is believed only from the proxies the rate limiter trusts too.
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
            timeout_graceful_shutdown=10,
        )


def forget_this_process() -> None:
    """At a worker's shutdown, with shared metric files: drop this process's `live*` gauge files, so a
    process that is gone no longer counts in the sums and maxima (docs/operations.md, "Gauges").
    Counters and histograms stay: what a process counted before it stopped still happened."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
