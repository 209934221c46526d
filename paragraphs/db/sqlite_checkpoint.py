"""SQLite: the write-ahead log copied back into the database file outside the write lock.

By default SQLite checkpoints inside the `COMMIT` that takes the log past 1,000 pages: that writer
copies the pages into the file and syncs it before its `COMMIT` returns. Our writers hold the lock
file (sqlite_write_lock.py) until then, so every writer of every process waited behind it. Measured
on the mixed load (bench/RESULTS.md, "fifth session"), two `serve` workers at 100,000 paragraphs: every
~10 s, writes took 0.5-0.8 s for a second; `POST /paragraphs` p90 267-382 ms, the load's p99 412-444
ms. With the API writer's automatic checkpoint off and this one instead: p90 33 ms, p99 158 ms.

`after_commit` (the write loop calls it once its lock is released) starts a `PASSIVE` checkpoint on a
thread and connection of its own, at most one at a time and one a second. A passive checkpoint takes
no lock a writer or reader waits for: writers append to the log meanwhile, readers read on. It copies
what no reader still needs; the next writer after a complete one starts the log from its beginning
again, so the file stays as large as the log got between two checkpoints. Other programs writing the
file (a CLI import) keep SQLite's automatic checkpoint.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

MIN_INTERVAL_S = 1.0


class SqliteCheckpointer:
    def __init__(self, database: Path, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self.database = database
        self.min_interval_s = min_interval_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
        self._connection: sqlite3.Connection | None = None
        self._running: Future[None] | None = None
        self._started_at = -float("inf")
        self._lock = threading.Lock()
        # (busy, pages in the log, pages copied) of the last checkpoint: `PRAGMA wal_checkpoint`'s row.
        self.last: tuple[int, int, int] | None = None
        self.runs = 0

    def after_commit(self) -> None:
        """A checkpoint now, unless one runs or started less than `min_interval_s` ago. Never waits."""
        with self._lock:
            now = time.monotonic()
            if (self._running is not None and not self._running.done()) or now - self._started_at < self.min_interval_s:
                return
            self._started_at = now
            self._running = self._executor.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        with contextlib.suppress(sqlite3.Error):  # a locked or busy file: the next commit tries again
            busy, log, copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.last = (int(busy), int(log), int(copied))
            self.runs += 1

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
