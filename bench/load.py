"""Load over HTTP with wrk: the mixed load, /dictionary and a cached search beside a bare endpoint, RSS.

    python -m bench.load [--engines postgresql sqlite] [--count 100000] [--workers 2] [--seconds 60]
                         [--connections 50] [--baseline main] [--redis-url redis://...]

Per engine, on a copy of the benchmark corpus (`bench/search.py` makes it; PostgreSQL copies it with
`CREATE DATABASE ... TEMPLATE`, SQLite copies the file), so the writes of the load never change it:
1. the mixed load (bench/mixed.lua: 80% POST /search limit 20, 15% GET /dictionary, 5% POST
   /paragraphs) against `paragraphs serve --workers N`;
2. with `--baseline REF`: the same load against REF (e.g. `main`) checked out into a temporary directory with
   its own `make install`, on a fresh copy moved back to REF's schema; one process, as REF serves;
3. GET /dictionary and a cached GET /search?limit=10 against the bare FastAPI endpoint
   (bench/bare_app.py) served by uvicorn with the same workers, loop and HTTP parser;
4. the resident memory of one `serve` process after 1,000 distinct searches (limit 100).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from bench import results
from bench.common import ADMIN_URL, DB_PREFIX, corpus_of, ensure_postgres_database, machine, remove_sqlite_files
from bench.search import document_frequencies
from paragraphs.db import migrate
from paragraphs.db.engine import create_database
from paragraphs.logs import configure_logging
from tests.e2e.server import connections_per_worker, free_port, listening_sockets

OUT = Path(__file__).parent / "out"
REPO = Path(__file__).parent.parent
MIXED_LUA = Path(__file__).parent / "mixed.lua"
STARTUP_S = 60.0


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def wrk(url: str, seconds: int, connections: int, env: dict[str, str] | None = None, script: bool = False) -> WrkResult:
    """wrk with bench/mixed.lua's done() report (used for every run: it reports any URL)."""
    args = [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(MIXED_LUA), url]
    run_env = {**os.environ, **(env or {})}
    if not script:
        run_env["BENCH_PLAIN"] = "1"
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=run_env).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    errors = sum(report[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(report["requests"], report["duration_us"] / 1e6, errors, report["p50_ms"], report["p99_ms"])


@contextmanager
def process(
    command_line: list[str], env: dict[str, str], log: Path, health: str, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(command_line, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command_line} exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command_line} did not come up: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_env(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARAGRAPHS_", "PROMETHEUS_"))}
    env.update(
        {"PARAGRAPHS_DATABASE_URL": database_url, "PARAGRAPHS_OFFLINE": "true", "PARAGRAPHS_LOG_LEVEL": "warning"}
    )
    if redis_url:
        env["PARAGRAPHS_REDIS_URL"] = redis_url
    return env


# --- copies of the corpus -------------------------------------------------------------------------


async def copy_database(engine: str, source_url: str, name: str) -> str:
    if engine == "sqlite":
        source = Path(make_url(source_url).database or "")
        target = OUT / f"{name}.db"
        remove_sqlite_files(target)
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source_url).database}"')
    finally:
        await connection.close()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def drop_copy(engine: str, url: str) -> None:
    if engine == "sqlite":
        remove_sqlite_files(str(make_url(url).database))
        return
    admin = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await connection.close()


async def downgrade(url: str, revision: str) -> None:
    db = create_database(url, pool_size=1)

    def run(connection: Connection) -> None:
        command.downgrade(migrate.alembic_config(connection), revision)

    try:
        async with db.write_engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await db.dispose()


def baseline_checkout(ref: str) -> tuple[Path, str]:
    """REF exported into $TMPDIR/paragraphs-baseline-<sha> with its own .venv (made once); and its schema head."""
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    # Outside the repository: linters and pytest must not find a second copy of the package.
    directory = Path(tempfile.gettempdir()) / f"paragraphs-baseline-{sha[:12]}"
    if not (directory / ".venv" / ".installed").exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
        subprocess.run(["make", "install"], cwd=directory, check=True, capture_output=True)
    config = Config()
    config.set_main_option("script_location", str(directory / "paragraphs" / "db" / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    return directory, heads[0]


# --- the measurements -----------------------------------------------------------------------------


def mixed(url: str, words: dict[str, str], args: argparse.Namespace) -> WrkResult:
    return wrk(url, args.seconds, args.connections, env=words, script=True)


def wait_for_workers(port: int, workers: int) -> None:
    """Until every worker listens on its socket: a connection opened while only some listen goes to
    those, and stays there for the whole run."""
    deadline = time.monotonic() + STARTUP_S
    while listening_sockets(port) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workers} workers did not all listen in {STARTUP_S} s")
        time.sleep(0.1)


def mixed_with_split(
    url: str, port: int, server: int, words: dict[str, str], args: argparse.Namespace
) -> tuple[WrkResult, str]:
    """The mixed load, and how its connections were spread over the workers half-way through."""
    split: list[int] = []

    def sample() -> None:
        with contextlib.suppress(OSError):
            split.extend(connections_per_worker(server, port))

    timer = threading.Timer(args.seconds / 2, sample)
    timer.start()
    try:
        return mixed(url, words, args), "/".join(map(str, split)) or "?"
    finally:
        timer.cancel()


def rss_after_searches(
    command_line: list[str], env: dict[str, str], vocabulary: list[str], n: int = 1000
) -> tuple[float, float]:
    """MB resident before and after `n` distinct searches against one process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with process([*command_line, "--port", str(port), "--workers", "1"], env, OUT / "rss.log", f"{url}/health") as proc:

        def rss() -> float:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
            return 0.0

        before = rss()
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(n):
                word = vocabulary[i % len(vocabulary)]
                body = {"words": [word], "operator": "and", "limit": 100, "offset": 100 * (i // len(vocabulary))}
                client.post("/search", json=body).raise_for_status()
        return before, rss()


async def bench_engine(engine: str, args: argparse.Namespace) -> list[str]:
    if engine == "postgresql":
        corpus_url = await ensure_postgres_database(f"{DB_PREFIX}_{args.count}")
    else:
        corpus_url = f"sqlite:///{OUT / f'paragraphs_{args.count}.db'}"
    db = await corpus_of(corpus_url, args.count)
    try:
        frequencies, _ = await document_frequencies(db)
    finally:
        await db.dispose()
    by_share = sorted(frequencies.items(), key=lambda item: -item[1])
    common = [w for w, share in by_share if share >= 0.5][:10]
    medium = [w for w, share in by_share if 0.02 <= share <= 0.1][:30]
    words = {"BENCH_COMMON": ",".join(common), "BENCH_MEDIUM": ",".join(medium)}
    redis_url = args.redis_url if engine == "postgresql" else None
    serve = [sys.executable, "-m", "paragraphs", "serve", "--host", "127.0.0.1"]
    lines: list[str] = []
    rows: list[str] = []

    copy = await copy_database(engine, corpus_url, f"{DB_PREFIX}_load")
    try:
        env = server_env(copy, redis_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with process(
            [*serve, "--port", str(port), "--workers", str(args.workers)], env, OUT / "serve.log", f"{url}/health"
        ) as server:
            wait_for_workers(port, args.workers)
            load, split = mixed_with_split(url, port, server.pid, words, args)
            rows.append(
                f"| this branch, `serve --workers {args.workers}` (connections per worker: {split}) | {load.rps:,.0f} | {load.p50_ms:.0f} | {load.p99_ms:.0f} | {load.errors} |"
            )
            dictionary = wrk(f"{url}/dictionary", args.short_seconds, args.connections)
            search_url = f"{url}/search?words={common[0]}&operator=and&limit=10"
            httpx.get(search_url, timeout=60).raise_for_status()
            cached = wrk(search_url, args.short_seconds, args.connections)
    finally:
        await drop_copy(engine, copy)

    if args.baseline:
        directory, head = await asyncio.to_thread(baseline_checkout, args.baseline)
        copy = await copy_database(engine, corpus_url, f"{DB_PREFIX}_load")
        try:
            await downgrade(copy, head)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            baseline_serve = [
                str(directory / ".venv" / "bin" / "paragraphs"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            with process(
                baseline_serve, server_env(copy, redis_url), OUT / "baseline.log", f"{url}/health", cwd=directory
            ):
                before = mixed(url, words, args)
            rows.insert(
                0,
                f"| `{args.baseline}` (one process, as it serves) | {before.rps:,.0f} | {before.p50_ms:.0f} | {before.p99_ms:.0f} | {before.errors} |",
            )
            rows.append(f"| ratio | {load.rps / before.rps:.2f}x | | | |")
        finally:
            await drop_copy(engine, copy)

    port = free_port()
    bare_url = f"http://127.0.0.1:{port}"
    bare = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--workers", str(args.workers),
            "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with process(bare, server_env(corpus_url, None), OUT / "bare.log", f"{bare_url}/dictionary"):
        reference = wrk(f"{bare_url}/dictionary", args.short_seconds, args.connections)

    copy = await copy_database(engine, corpus_url, f"{DB_PREFIX}_load")
    try:
        vocabulary = [w for w, _ in by_share[:200]]
        rss_before, rss_after = await asyncio.to_thread(rss_after_searches, serve, server_env(copy, None), vocabulary)
    finally:
        await drop_copy(engine, copy)

    lines += [
        f"Command: `python -m bench.load --engines {engine} --count {args.count} --workers {args.workers} "
        f"--seconds {args.seconds} --connections {args.connections}"
        + (f" --baseline {args.baseline}" if args.baseline else "")
        + "` (`make bench-load`)  ",
        f"Machine: {machine()}; wrk, the server and the database share it.  ",
        f"Corpus: {args.count:,} paragraphs on {engine}"
        + (" with Redis" if redis_url else ", in-process cache")
        + f"; common words {', '.join(common[:5])}…; medium {', '.join(medium[:5])}…",
        "",
        f"Mixed load (bench/mixed.lua), wrk -t2 -c{args.connections} -d{args.seconds}s:",
        "",
        "| server | requests/s | p50 ms | p99 ms | errors (non-2xx, socket) |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Single endpoints, wrk -t2 -c{args.connections} -d{args.short_seconds}s, {args.workers} workers, uvloop + httptools on both sides:",
        "",
        "| endpoint | requests/s | share of bare | p99 ms |",
        "|---|---|---|---|",
        f"| bare FastAPI endpoint returning a constant | {reference.rps:,.0f} | 100% | {reference.p99_ms:.0f} |",
        f"| `GET /dictionary` (cached) | {dictionary.rps:,.0f} | {100 * dictionary.rps / reference.rps:.0f}% | {dictionary.p99_ms:.0f} |",
        f"| `GET /search?words={common[0]}&limit=10` (cached) | {cached.rps:,.0f} | {100 * cached.rps / reference.rps:.0f}% | {cached.p99_ms:.0f} |",
        "",
        f"Resident memory of one `serve` process (in-process cache): {rss_before:.0f} MB at start, "
        f"{rss_after:.0f} MB after 1,000 distinct searches (limit 100).",
    ]
    return lines


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    for engine in args.engines:
        lines = await bench_engine(engine, args)
        print("\n".join(lines), flush=True)
        results.write_section(f"load on {engine}", "\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--short-seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--baseline", default=None, help="a git ref to measure in the same run, e.g. main")
    parser.add_argument("--redis-url", default=os.environ.get("PARAGRAPHS_BENCH_REDIS_URL"))
    asyncio.run(main(parser.parse_args()))
