"""Dictionary benchmark: top-10 against the naive full scan, GET /dictionary requests per second
against a bare endpoint (wrk), and bulk writes with index and counts against plain inserts.

    python -m bench.dictionary [--count 100000] [--write-count 10000]

Uses the PostgreSQL corpus of bench/search.py (`paragraphs_bench_<count>`, made if missing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text

from bench import results
from bench.common import DB_PREFIX, SEED, corpus_of, ensure_postgres_database, machine, timed
from paragraphs import text as tokenizer
from paragraphs.cache import MemoryCache
from paragraphs.corpus import ingest
from paragraphs.corpus.sources.offline import OfflineGenerator
from paragraphs.corpus.version import CorpusVersion
from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Paragraph, Source, utcnow
from paragraphs.dictionary import counts
from paragraphs.dictionary import service as dictionary_service
from paragraphs.dictionary.providers.offline import OfflineDictionary
from paragraphs.dictionary.service import DefinitionStore
from paragraphs.logs import configure_logging
from tests.e2e.server import free_port

OUT = Path(__file__).parent / "out"


async def naive_top10(db: Database) -> list[tuple[str, int]]:
    """The design this replaces: load every paragraph, count in Python."""
    totals: Counter[str] = Counter()
    async with db.engine.connect() as connection:
        result = await connection.stream(select(Paragraph.content))
        async for (content,) in result:
            totals.update(tokenizer.words(content))
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:10]


async def top10(db: Database) -> list[tuple[str, int]]:
    async with db.read() as session:
        return await counts.top_words(session, 10)


async def bench_top10(db: Database, repeats: int) -> list[str]:
    ours = await timed(lambda: top10(db), repeats, warmup=3)
    store = DefinitionStore(db=db, cache=MemoryCache(), provider=OfflineDictionary())
    await dictionary_service.top_words_with_definitions(db, store, 10, 5)  # definitions cached
    service = await timed(lambda: dictionary_service.top_words_with_definitions(db, store, 10, 5), repeats, warmup=3)
    corpus = CorpusVersion(db)
    cached = await timed(lambda: dictionary_service.dictionary_json(db, store, corpus, 10, 5), repeats, warmup=3)
    await corpus.close()
    started = time.perf_counter()
    naive_result = await naive_top10(db)
    naive_ms = (time.perf_counter() - started) * 1000
    assert naive_result == await top10(db), "the naive scan and the word-count table disagree"
    return [
        "| computation | p50 ms | p95 ms | ratio to naive |",
        "|---|---|---|---|",
        f"| naive: load every paragraph, count with Counter (1 run) | {naive_ms:,.0f} | | 1x |",
        f"| `counts.top_words(10)`: index read of `word_count` | {ours.p50:.3f} | {ours.p95:.3f} | {naive_ms / ours.p50:,.0f}x |",
        f"| service: top 10 + definitions from the cache, response built | {service.p50:.3f} | {service.p95:.3f} | {naive_ms / service.p50:,.0f}x |",
        f"| service: GET /dictionary's body, answer cached, version read from the database | {cached.p50:.3f} | {cached.p95:.3f} | {naive_ms / cached.p50:,.0f}x |",
        "",
        f"Both give the same top 10: {', '.join(f'{w} ({c})' for w, c in naive_result)}.",
    ]


def _serve(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(  # noqa: S603
        [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def bench_rps(database_url: str, seconds: int, connections: int) -> list[str]:
    if shutil.which("wrk") is None:
        return ["wrk is not installed (`apt-get install wrk`): requests per second not measured."]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARAGRAPHS_")}
    env.update(
        {"PARAGRAPHS_DATABASE_URL": database_url, "PARAGRAPHS_OFFLINE": "true", "PARAGRAPHS_LOG_LEVEL": "warning"}
    )
    ours_port, bare_port = free_port(), free_port()
    ours = _serve([sys.executable, "-m", "paragraphs", "serve", "--port", str(ours_port)], env, OUT / "serve.log")
    bare = _serve(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        OUT / "bare.log",
    )
    try:
        _wait(f"http://127.0.0.1:{ours_port}/dictionary")
        _wait(f"http://127.0.0.1:{bare_port}/dictionary")
        ours_rps = _wrk(f"http://127.0.0.1:{ours_port}/dictionary", seconds, connections)
        bare_rps = _wrk(f"http://127.0.0.1:{bare_port}/dictionary", seconds, connections)
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(timeout=15)
    return [
        f"`wrk -t2 -c{connections} -d{seconds}s`, one uvicorn process each, logs at warning, PostgreSQL at 100,000 paragraphs, in-process cache warm.",
        "",
        "| endpoint | requests/s | share of bare |",
        "|---|---|---|",
        f"| bare FastAPI endpoint returning a constant | {bare_rps:,.0f} | 100% |",
        f"| `GET /dictionary` (top 10 with definitions) | {ours_rps:,.0f} | {100 * ours_rps / bare_rps:.0f}% |",
    ]


async def bench_writes(count: int) -> list[str]:
    contents = list(OfflineGenerator(SEED + 1).paragraphs(count))
    rates = {}
    for name in ("ours", "plain"):
        url = await ensure_postgres_database(f"{DB_PREFIX}_writes_{name}")
        db = create_database(url)
        await migrate.upgrade(db.write_engine)
        async with db.write() as session:
            await session.execute(text("TRUNCATE paragraph, word_count, definition RESTART IDENTITY CASCADE"))
        started = time.perf_counter()
        if name == "ours":
            await ingest.store_all(db, contents, Source.IMPORT)
        else:
            now = utcnow()
            for start in range(0, count, ingest.DEFAULT_BATCH_SIZE):
                rows = [
                    {"content": c, "source": "import", "word_count": len(tokenizer.words(c)), "created_at": now}
                    for c in contents[start : start + ingest.DEFAULT_BATCH_SIZE]
                ]
                async with db.write() as session:
                    await session.execute(insert(Paragraph), rows)
        rates[name] = count / (time.perf_counter() - started)
        await db.dispose()
    return [
        f"{count:,} offline paragraphs (generated beforehand, not timed), batches of {ingest.DEFAULT_BATCH_SIZE}, PostgreSQL.",
        "",
        "| write path | paragraphs/s | ratio |",
        "|---|---|---|",
        f"| plain inserts of the same rows (word_count column only) | {rates['plain']:,.0f} | 1x |",
        f"| `paragraphs import` path: rows + tsvector/GIN + word counts + version, one transaction per batch | {rates['ours']:,.0f} | {rates['ours'] / rates['plain']:.2f}x |",
    ]


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    url = await ensure_postgres_database(f"{DB_PREFIX}_{args.count}")
    db = await corpus_of(url, args.count)
    try:
        top = await bench_top10(db, args.repeats)
    finally:
        await db.dispose()
    print("\n".join(top), flush=True)
    rps = await asyncio.to_thread(bench_rps, url, args.seconds, args.connections)
    print("\n".join(rps), flush=True)
    writes = await bench_writes(args.write_count)
    body = [
        f"Command: `python -m bench.dictionary --count {args.count} --write-count {args.write_count}` (`make bench-dictionary`)  ",
        f"Machine: {machine()}",
        "",
        f"### Top 10 words at {args.count:,} paragraphs (PostgreSQL)",
        "",
        *top,
        "",
        "### GET /dictionary over HTTP",
        "",
        *rps,
        "",
        "### Bulk writes",
        "",
        *writes,
    ]
    results.write_section("dictionary", "\n".join(body))
    print("\n".join(body))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--write-count", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
