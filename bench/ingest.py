"""Ingest benchmark: paragraphs/s of `paragraphs seed` and `paragraphs import`, the bulk write path
against the ORM path, same run.

    python -m bench.ingest [--count 20000] [--repeats 3] [--prefill 0] [--engines postgresql sqlite]
                           [--preparers N]

What is timed is what `paragraphs seed --count N` runs after start-up: the offline generator in a
child process, tokenizing and preparing batches of 1,000 paragraphs (in the preparer processes,
corpus/preparers.py), each stored with its index entries and word counts in one transaction, and
the ANALYZE after a large load. Three paths: `bulk` (corpus/bulk.py, what the commands use), `orm`
(tokenized in this process, service.create_paragraphs per batch: the path before it, the reference)
and `import` (`paragraphs import` of the same paragraphs from a text file: the bulk path without
the generator).

Every run starts from a copy of one base database: empty and migrated, or holding `--prefill`
paragraphs (made once with another seed, then kept: PostgreSQL `<prefix>_ingest_<prefill>`, copied
with CREATE DATABASE ... TEMPLATE; SQLite bench/out/ingest_<prefill>.db, copied as a file). The paths
alternate run by run, so drifting load on a shared machine hits both alike; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import results
from bench.common import ADMIN_URL, DB_PREFIX, SEED, ensure_postgres_database, machine, remove_sqlite_files
from paragraphs.corpus import ingest, preparers
from paragraphs.corpus.sources.offline import paragraphs_in_background
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Paragraph, Source
from paragraphs.logs import configure_logging

OUT = Path(__file__).parent / "out"
# bulk and orm: `paragraphs seed` (the generator in a child process); import: `paragraphs import` of
# the same paragraphs from a text file (written once, before the runs), bulk path.
PATHS = ("bulk", "orm", "import")
PREFILL_SEED = SEED + 1


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)


async def _prepare_base(url: str, prefill: int) -> None:
    """A migrated database holding `prefill` paragraphs (made once, then reused)."""
    db = create_database(url, pool_size=2)
    try:
        await migrate.upgrade(db.write_engine)
        have = await _count(db)
        if have != prefill:
            if have:
                raise SystemExit(f"{url} holds {have} paragraphs, not {prefill}: drop it or pick another --prefill")
            started = time.perf_counter()
            await ingest.store_all(db, paragraphs_in_background(PREFILL_SEED, prefill), Source.OFFLINE)
            print(f"pre-filled {prefill} paragraphs in {time.perf_counter() - started:.0f} s")
    finally:
        await db.dispose()


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _copy_of_base(engine: str, base_url: str) -> str:
    """A fresh copy of the base database; returns its URL."""
    if engine == "postgresql":
        base, run = make_url(base_url).database, f"{DB_PREFIX}_ingest_run_{os.getpid()}"
        await _admin(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{run}" TEMPLATE "{base}"')
        return make_url(base_url).set(database=run).render_as_string(hide_password=False)
    base_path, run_path = Path(str(make_url(base_url).database)), OUT / f"ingest_run_{os.getpid()}.db"
    remove_sqlite_files(run_path)
    shutil.copyfile(base_path, run_path)
    return f"sqlite:///{run_path}"


async def _drop_copy(engine: str, url: str) -> None:
    if engine == "postgresql":
        await _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    else:
        remove_sqlite_files(Path(str(make_url(url).database)))


@dataclass
class Run:
    """One seed: paragraphs/s, and CPU ms per paragraph of each process (this one, its children: the
    generator and the preparers, the database's server processes for this database: PostgreSQL
    backends only)."""

    rate: float
    cpu_ms: dict[str, float]


def _cpu_s(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _backend_cpu_s(pids: list[int]) -> float:
    """CPU seconds of PostgreSQL server processes so far (/proc/<pid>/stat: utime, stime in ticks)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _backends(url: str) -> list[int]:
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


def _import_file(count: int) -> Path:
    """The seed's `count` paragraphs as a text file for `paragraphs import` (made once, then kept)."""
    path = OUT / f"import_{SEED}_{count}.txt"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        part = path.with_suffix(".part")
        with part.open("w", encoding="utf-8") as out:
            for paragraph in paragraphs_in_background(SEED, count):
                out.write(paragraph + "\n\n")
        part.rename(path)
    return path


def _contents(path: str, count: int) -> Iterator[str]:
    if path != "import":
        yield from paragraphs_in_background(SEED, count)
        return
    with _import_file(count).open("rb") as stream:
        yield from ingest.split_paragraphs(ingest.decoded_lines(stream, "import"))


async def _one_run(engine: str, base_url: str, path: str, count: int, prefill: int, preparers: int | None) -> Run:
    """One seed (or import) of `count` paragraphs into a copy of the base."""
    url = await _copy_of_base(engine, base_url)
    db = create_database(url, pool_size=2)
    try:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        report = await ingest.store_all(
            db,
            _contents(path, count),
            Source.IMPORT if path == "import" else Source.OFFLINE,
            orm_path=(path == "orm"),
            preparer_count=preparers,
        )
        elapsed = time.perf_counter() - started
        cpu_ms = {
            "this process": _cpu_s(resource.getrusage(resource.RUSAGE_SELF)) - _cpu_s(own),
            "children": _cpu_s(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu_s(children),
        }
        if engine == "postgresql":
            cpu_ms["database"] = _backend_cpu_s(await _backends(url))
        stored = await _count(db)
        if report.stored != count or stored != prefill + count:
            raise SystemExit(f"{engine} {path}: stored {report.stored}, table holds {stored}, expected {count}")
    finally:
        await db.dispose()
        await _drop_copy(engine, url)
    return Run(count / elapsed, {name: seconds * 1000 / count for name, seconds in cpu_ms.items()})


async def bench_engine(engine: str, args: argparse.Namespace) -> dict[str, list[Run]]:
    if engine == "postgresql":
        base_url = await ensure_postgres_database(f"{DB_PREFIX}_ingest_{args.prefill}")
    else:
        OUT.mkdir(exist_ok=True)
        base_url = f"sqlite:///{OUT / f'ingest_{args.prefill}.db'}"
    await _prepare_base(base_url, args.prefill)
    _import_file(args.count)
    runs: dict[str, list[Run]] = {path: [] for path in PATHS}
    for repeat in range(args.repeats):
        for path in PATHS if repeat % 2 == 0 else reversed(PATHS):
            run = await _one_run(engine, base_url, path, args.count, args.prefill, args.preparers)
            runs[path].append(run)
            cpu = ", ".join(f"{name} {ms:.3f}" for name, ms in run.cpu_ms.items())
            print(
                f"{engine} {path}: {run.rate:,.0f} paragraphs/s; CPU ms a paragraph: {cpu} (load {os.getloadavg()[0]:.1f})"
            )
    return runs


def section(args: argparse.Namespace, all_runs: dict[str, dict[str, list[Run]]], load: list[float]) -> str:
    command = f"python -m bench.ingest --count {args.count} --repeats {args.repeats} --prefill {args.prefill}"
    if list(args.engines) != ["postgresql", "sqlite"]:
        command += f" --engines {' '.join(args.engines)}"
    default = (args.count, args.repeats, args.prefill, list(args.engines)) == (20_000, 3, 0, ["postgresql", "sqlite"])
    lines = [
        f"Command: `{command}`{' (`make bench-ingest`)' if default else ''}  ",
        f"Machine: {machine()}; load average {min(load):.1f}-{max(load):.1f} during the runs (shared with "
        "other engineers' tests and benchmarks: read the ratio, taken in the same run, before the rates).  ",
        f"Data: {args.count:,} offline paragraphs (`paragraphs seed --seed {SEED}`, ~575 words each) into a "
        f"database holding {args.prefill:,}; batches of {ingest.DEFAULT_BATCH_SIZE:,}; text generated in a child "
        "process as `paragraphs seed` does (import: read from a text file); ANALYZE after the load included; "
        "median of the runs.",
        "",
        "CPU: ms per paragraph (median) of this process (reading, the driver; the orm path's tokenizing; on SQLite "
        "the database's work too, in aiosqlite's thread), of its children (the generator; the bulk paths' "
        f"preparers, {args.preparers or preparers.default_processes()} here) and of the PostgreSQL backends "
        "(not its WAL writer or checkpointer). Their sum bounds the rate on 2 idle cores: 2,000 / sum "
        "(CPU alone; PostgreSQL's WAL writer, the disk and scheduling take their share of the rest).",
        "",
        "| engine | path | paragraphs/s (median) | runs | vs orm | CPU ms/paragraph: this process | children | database | 2-core bound/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, runs in all_runs.items():
        reference = statistics.median(run.rate for run in runs["orm"])
        for path in PATHS:
            median = statistics.median(run.rate for run in runs[path])
            rates = ", ".join(f"{run.rate:,.0f}" for run in runs[path])
            cpu_ms = {name: statistics.median(run.cpu_ms[name] for run in runs[path]) for name in runs[path][0].cpu_ms}
            cpu = [
                f"{cpu_ms[name]:.3f}" if name in cpu_ms else "-" for name in ("this process", "children", "database")
            ]
            bound = 2000 / sum(cpu_ms.values())
            lines.append(
                f"| {engine} | {path} | {median:,.0f} | {rates} | {median / reference:.2f}x | {' | '.join(cpu)} "
                f"| {bound:,.0f} |"
            )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    all_runs: dict[str, dict[str, list[Run]]] = {}
    load = [os.getloadavg()[0]]
    for engine in args.engines:
        all_runs[engine] = await bench_engine(engine, args)
        load.append(os.getloadavg()[0])
    name = "ingest" if args.prefill == 0 else f"ingest into {args.prefill:,}"
    results.write_section(name, section(args, all_runs, load))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prefill", type=int, default=0)
    parser.add_argument("--engines", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    parser.add_argument(
        "--preparers", type=int, default=None, help="Preparer processes of the bulk path (default: as the commands)."
    )
    asyncio.run(main(parser.parse_args()))
