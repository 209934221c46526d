"""Web page benchmark: the HTML pages over ASGI (routing, services, templates), as a browser asks for them.

    python -m bench.web [--count 100000] [--repeats 20] [--engines sqlite postgresql]

Same corpora as bench.search (`paragraphs_bench_<count>` on PostgreSQL, bench/out/paragraphs_<count>.db
on SQLite). The search results cache is replaced by one that never hits, so every search page is
computed; /words keeps its own cache, as in steady state (the warm-up job has defined the top words).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from bench import results
from bench.common import NullCache, Timing, corpus_of, ensure_postgres_database, machine, timed
from bench.search import document_frequencies, nearest
from paragraphs.app import create_app
from paragraphs.logs import configure_logging
from paragraphs.resources import Resources
from paragraphs.settings import Settings

OUT = Path(__file__).parent / "out"


def pages(frequencies: dict[str, float]) -> list[tuple[str, str]]:
    rare = nearest(frequencies, 0.001, set())
    medium = nearest(frequencies, 0.05, {rare})
    common = nearest(frequencies, 0.9, {rare, medium})
    return [
        ("search, rare word", f"/?words={rare}&operator=and"),
        ("search, medium word", f"/?words={medium}&operator=and"),
        ("search, common word", f"/?words={common}&operator=and"),
        ("search, common word, page 50", f"/?words={common}&operator=and&page=50"),
        ("search, medium OR common, by relevance", f"/?words={medium}+{common}&operator=or&order=relevance"),
        ("paragraphs, newest", "/browse"),
        ("one paragraph", "/browse/1"),
        ("words, top 10", "/words"),
        ("words, top 100", "/words?limit=100"),
    ]


async def bench_engine(engine: str, database_url: str, args: argparse.Namespace) -> list[str]:
    db = await corpus_of(database_url, args.count)
    try:
        frequencies, _ = await document_frequencies(db)
    finally:
        await db.dispose()
    app = create_app(Settings(database_url=database_url, offline=True, _env_file=None))
    lines = []
    async with LifespanManager(app) as manager:
        # The lifespan's state (a private attribute of asgi-lifespan): swap the result cache for one that misses.
        resources = manager._state["resources"]
        assert isinstance(resources, Resources)
        resources.cache = NullCache()
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            for label, url in pages(frequencies):

                async def get(url: str = url) -> None:
                    response = await client.get(url)
                    assert response.status_code == 200, (url, response.status_code)

                timing: Timing = await timed(get, args.repeats)
                lines.append(f"| {engine} | {label} | `{url}` | {timing.p50:.1f} | {timing.p95:.1f} |")
                print(lines[-1], flush=True)
    return lines


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    for engine in args.engines:
        if engine == "postgresql":
            url = await ensure_postgres_database(f"paragraphs_bench_{args.count}")
        else:
            url = f"sqlite:///{OUT / f'paragraphs_{args.count}.db'}"
        load_before = os.getloadavg()[0]
        lines = await bench_engine(engine, url, args)
        header = [
            f"Command: `python -m bench.web --count {args.count} --repeats {args.repeats} --engines {engine}`  ",
            f"Machine: {machine()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
            "(other work shares the machine: figures are upper bounds)  ",
            f"Corpus: {args.count} paragraphs from the offline generator; whole HTML pages over ASGI, search "
            f"results cache off; p50/p95 over {args.repeats} requests after a warm-up, in ms.",
            "",
            "| engine | page | path | p50 | p95 |",
            "|---|---|---|---|---|",
        ]
        results.write_section(f"web pages on {engine}", "\n".join(header + lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--engines", nargs="+", choices=["postgresql", "sqlite"], default=["sqlite"])
    asyncio.run(main(parser.parse_args()))
