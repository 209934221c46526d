"""Shared benchmark plumbing: corpora made by the offline generator, timing, machine facts."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from paragraphs.cache import CacheState
from paragraphs.corpus import ingest
from paragraphs.corpus.sources.offline import OfflineGenerator
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Paragraph, Source

ADMIN_URL = os.environ.get("PARAGRAPHS_BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED = 20261122
# Name prefix of the benchmark databases, so that two checkouts (or schemas) do not share one.
DB_PREFIX = os.environ.get("PARAGRAPHS_BENCH_DB_PREFIX", "paragraphs_bench")


class NullCache:
    """Never hits: benchmarks measure the index, not the cache."""

    async def get(self, key: str) -> bytes | None:
        return None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [None] * len(keys)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        return None

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return True

    async def delete(self, key: str) -> None:
        return None

    async def state(self) -> tuple[CacheState, str]:
        return "disabled", "benchmark"

    async def close(self) -> None:
        return None


@dataclass
class Timing:
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def timed(action: Callable[[], Awaitable[object]], repeats: int, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        await action()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(samples)


async def ensure_postgres_database(name: str) -> str:
    admin = make_url(ADMIN_URL)
    connection = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def corpus_of(database_url: str, count: int, *, seed: int = SEED) -> Database:
    """A migrated database holding exactly `count` offline paragraphs made with `seed` (reused if there)."""
    db = create_database(database_url, pool_size=4)
    await migrate.upgrade(db.write_engine)
    async with db.read() as session:
        have = int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)
    if have != count:
        if have:
            raise SystemExit(f"{database_url} holds {have} paragraphs, not {count}: drop it or pick another")
        started = time.perf_counter()
        await ingest.store_all(db, OfflineGenerator(seed).paragraphs(count), Source.OFFLINE)
        print(f"seeded {count} paragraphs in {time.perf_counter() - started:.1f} s")
    return db


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607
    except OSError:
        postgres = "psql not found"
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}, {postgres}"


def remove_sqlite_files(path: Path | str) -> None:
    """A SQLite database with its log, shared memory and the writers' lock file (db/sqlite_write_lock.py)."""
    for suffix in ("", "-wal", "-shm", ".write-lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
