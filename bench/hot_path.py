"""The hot path over HTTP: cached GET /dictionary and GET /search?limit=10 beside a bare endpoint.

    python -m bench.hot_path [--engine sqlite|postgresql] [--count 1000] [--workers 2] [--seconds 10]
                             [--rounds 3] [--connections 50] [--baseline REF] [--redis-url redis://...]

What `bench.load` measures in its "single endpoints" step, alone and repeated: the servers (the bare
FastAPI endpoint of bench/bare_app.py, `paragraphs serve`, and with `--baseline REF` the same serve
from REF checked out as `bench.load` does) all run at once, and every round measures each of them in
turn, so a burst of load from elsewhere on a shared machine falls on all of them alike. Reported:
the median requests/s of the rounds, and each endpoint's share of the bare one. Both cached answers
never touch the database, so a small corpus (default 1,000 paragraphs) does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import results
from bench.common import DB_PREFIX, corpus_of, ensure_postgres_database, machine
from bench.load import OUT, WrkResult, baseline_checkout, copy_database, downgrade, drop_copy, process, server_env, wrk
from paragraphs.logs import configure_logging
from tests.e2e.server import free_port

COMMON = "the"


def start(stack: ExitStack, name: str, command_line: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    health = f"{url}/dictionary" if name == "bare" else f"{url}/health"
    stack.enter_context(process([*command_line, "--port", str(port)], env, OUT / f"hot_path_{name}.log", health, cwd))
    return url


def warm(urls: list[str]) -> None:
    """Fills the caches (the bare app has no /search: its 404 is ignored)."""
    for url in urls:
        httpx.get(url, timeout=60)


def median_rps(runs: list[WrkResult]) -> float:
    return statistics.median(run.rps for run in runs)


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    if args.engine == "postgresql":
        corpus_url = await ensure_postgres_database(f"{DB_PREFIX}_{args.count}")
    else:
        corpus_url = f"sqlite:///{OUT / f'paragraphs_{args.count}.db'}"
    await (await corpus_of(corpus_url, args.count)).dispose()
    redis_url = args.redis_url if args.engine == "postgresql" else None
    workers = ["--workers", str(args.workers)]
    copies = [await copy_database(args.engine, corpus_url, f"{DB_PREFIX}_hot_{i}") for i in range(2)]
    servers: dict[str, str] = {}
    try:
        with ExitStack() as stack:
            bare = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", *workers, "--loop", "uvloop",
                    "--http", "httptools", "--log-level", "warning", "--no-access-log"]  # fmt: skip
            servers["bare FastAPI endpoint returning a constant"] = start(
                stack, "bare", bare, server_env(corpus_url, None)
            )
            serve = [sys.executable, "-m", "paragraphs", "serve", "--host", "127.0.0.1", *workers]
            servers["this branch"] = start(stack, "serve", serve, server_env(copies[0], redis_url))
            if args.baseline:
                directory, head = await asyncio.to_thread(baseline_checkout, args.baseline)
                await downgrade(copies[1], head)
                baseline = [str(directory / ".venv" / "bin" / "paragraphs"), "serve", "--host", "127.0.0.1", *workers]
                servers[f"`{args.baseline}`"] = start(
                    stack, "baseline", baseline, server_env(copies[1], redis_url), cwd=directory
                )
            paths = {"dictionary": "/dictionary", "search": f"/search?words={COMMON}&operator=and&limit=10"}
            await asyncio.to_thread(warm, [f"{url}{path}" for url in servers.values() for path in paths.values()])
            runs: dict[tuple[str, str], list[WrkResult]] = {}
            for _ in range(args.rounds):
                for name, url in servers.items():
                    for endpoint, path in paths.items():
                        if name.startswith("bare") and endpoint == "search":
                            continue
                        runs.setdefault((name, endpoint), []).append(
                            wrk(f"{url}{path}", args.seconds, args.connections)
                        )
    finally:
        for copy in copies:
            await drop_copy(args.engine, copy)
    bare_rps = median_rps(runs[(next(iter(servers)), "dictionary")])
    lines = [
        f"Command: `python -m bench.hot_path --engine {args.engine} --count {args.count} --workers {args.workers} "
        f"--seconds {args.seconds} --rounds {args.rounds} --connections {args.connections}"
        + (f" --baseline {args.baseline}" if args.baseline else "")
        + "`  ",
        f"Machine: {machine()}; wrk, the servers and the database share it, and so did other engineers' runs.  ",
        f"wrk -t2 -c{args.connections} -d{args.seconds}s per run, {args.rounds} rounds taking the servers in turn; "
        f"{args.workers} workers, uvloop + httptools everywhere; "
        + ("PostgreSQL" if args.engine == "postgresql" else "SQLite")
        + (" + Redis." if redis_url else ", in-process cache."),
        "",
        "| server | endpoint | requests/s (median) | rounds | share of bare |",
        "|---|---|---|---|---|",
    ]
    for (name, endpoint), measured in runs.items():
        rps = median_rps(measured)
        rounds = ", ".join(f"{run.rps:,.0f}" for run in measured)
        lines.append(f"| {name} | `{paths[endpoint]}` | {rps:,.0f} | {rounds} | {100 * rps / bare_rps:.0f}% |")
    print("\n".join(lines), flush=True)
    results.write_section(f"hot path on {args.engine}", "\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--baseline", default=None, help="a git ref to measure in the same run, e.g. main")
    parser.add_argument("--redis-url", default=None)
    asyncio.run(main(parser.parse_args()))
