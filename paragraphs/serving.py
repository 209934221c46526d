"""Running the API: how many processes, and metrics that add up across them (docs/operations.md).

`paragraphs serve --workers N` hands uvicorn the import string of the app factory
(`paragraphs.app:factory`); each worker process builds its own app from the same settings. With more
than one process, Prometheus metrics live in memory-mapped files in `PROMETHEUS_MULTIPROC_DIR`, which
`/metrics` sums over every process: `serve` makes that directory (or empties the one given) before
the workers start and removes the one it made when they have stopped.

Each worker listens on a socket of its own, all bound to the address with `SO_REUSEPORT`, so the
kernel spreads new connections over the workers by their addresses. On uvicorn's one shared socket
the worker that woke first accepted a whole burst: a client opening 50 connections at once found all
50 on one worker as often as not, and that worker worked alone (bench/RESULTS.md, "fourth session").
uvicorn's supervisor still runs the workers (health checks, restarts, signals); a worker it starts
to replace one listens on every socket, so none is left without a listener.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from paragraphs.db.engine import dialect_of
from paragraphs.settings import Settings

if TYPE_CHECKING:
    import uvicorn

log = structlog.get_logger(__name__)

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

    options: dict[str, Any] = {
        "factory": True,
        "workers": workers,
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "log_config": None,
        # X-Forwarded-For is believed only from the proxies the rate limiter trusts too.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
        "timeout_graceful_shutdown": 10,
    }
    with multiprocess_metrics(workers):
        if workers == 1 or port == 0 or not hasattr(socket, "SO_REUSEPORT"):
            uvicorn.run(APP_FACTORY, **options)  # one process, or uvicorn's one shared socket
            return
        sockets: list[socket.socket] = []
        try:
            sockets.extend(reuse_port_socket(host, port) for _ in range(workers))
            log.info("listening", url=f"http://{host}:{port}", workers=workers, sockets="one per worker (SO_REUSEPORT)")
            _per_worker_supervisor(uvicorn.Config(APP_FACTORY, **options), sockets).run()
        finally:
            for sock in sockets:
                sock.close()


class CannotListen(Exception):
    pass


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) in the address's `SO_REUSEPORT` group, for a child to listen on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port") from exc
    sock.set_inheritable(True)
    return sock


def _per_worker_supervisor(config: uvicorn.Config, sockets: list[socket.socket]) -> uvicorn.supervisors.Multiprocess:
    from uvicorn.supervisors import Multiprocess
    from uvicorn.supervisors.multiprocess import Process

    class PerWorkerSockets(Multiprocess):
        """uvicorn's supervisor, each first worker started on a socket of its own. Replacements
        (a worker that died, SIGHUP, SIGTTIN) get every socket, as uvicorn gives them."""

        def init_processes(self) -> None:
            for sock in self.sockets:
                process = Process(self.config, [sock])
                process.start()
                self.processes.append(process)

    return PerWorkerSockets(config, sockets=sockets)


def forget_this_process() -> None:
    """At a worker's shutdown, with shared metric files: drop this process's `live*` gauge files, so a
    process that is gone no longer counts in the sums and maxima (docs/operations.md, "Gauges").
    Counters and histograms stay: what a process counted before it stopped still happened."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
