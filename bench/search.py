"""Search benchmark: our index-backed search against the naive regex scan, same data, same run.

    python -m bench.search [--count 100000] [--repeats 30] [--naive-repeats 3]

PostgreSQL: a database `paragraphs_bench_<count>` (created, migrated and seeded once, then reused).
SQLite: bench/out/paragraphs_<count>.db. Service level = `search_service.search` with the result
cache disabled (no HTTP). Naive = `content ~* '\\yword\\y'` per word (SQLite: the same regex as a
REGEXP function), count plus first page, as the design this service replaces did.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text

from bench import results
from bench.common import NullCache, Timing, corpus_of, ensure_postgres_database, machine, timed
from paragraphs import text as tokenizer
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph
from paragraphs.logs import configure_logging
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest

OUT = Path(__file__).parent / "out"
SAMPLE = 5000


@dataclass(frozen=True)
class Case:
    label: str
    words: tuple[str, ...]
    operator: str


async def document_frequencies(db: Database) -> tuple[dict[str, float], float]:
    async with db.read() as session:
        contents = list(await session.scalars(select(Paragraph.content).order_by(Paragraph.id).limit(SAMPLE)))
    frequencies: Counter[str] = Counter()
    total_words = 0
    for content in contents:
        words = tokenizer.words(content)
        total_words += len(words)
        frequencies.update(set(words))
    return {word: n / len(contents) for word, n in frequencies.items()}, total_words / len(contents)


def nearest(frequencies: dict[str, float], share: float, skip: set[str]) -> str:
    return min(
        (w for w in frequencies if w not in skip and w.isalpha()), key=lambda w: (abs(frequencies[w] - share), w)
    )


def cases(frequencies: dict[str, float]) -> list[Case]:
    picked: set[str] = set()

    def pick(share: float) -> str:
        word = nearest(frequencies, share, picked)
        picked.add(word)
        return word

    rare, medium, medium2, common, common2 = pick(0.001), pick(0.05), pick(0.05), pick(0.9), pick(0.6)
    return [
        Case("rare", (rare,), "and"),
        Case("medium", (medium,), "and"),
        Case("common", (common,), "and"),
        Case("medium AND medium", (medium, medium2), "and"),
        Case("rare AND common", (rare, common), "and"),
        Case("medium OR medium", (medium, medium2), "or"),
        Case("common OR common", (common, common2), "or"),
        Case("rare AND medium AND common", (rare, medium, common), "and"),
        Case("rare OR medium OR common", (rare, medium, common), "or"),
    ]


async def ours(db: Database, case: Case, repeats: int) -> tuple[Timing, int]:
    request = SearchRequest(words=list(case.words), operator=case.operator, limit=100)  # type: ignore[arg-type]
    cache = NullCache()
    response, _ = await search_service.search(db, cache, request)
    timing = await timed(lambda: search_service.search(db, cache, request), repeats)
    return timing, response.total_count


def _regex_where(words: tuple[str, ...], operator: str, placeholder: str) -> str:
    joiner = " AND " if operator == "and" else " OR "
    return joiner.join(placeholder.format(i=i) for i in range(len(words)))


async def naive_postgres(db: Database, case: Case, repeats: int) -> tuple[Timing, int]:
    where = _regex_where(case.words, case.operator, "content ~* :p{i}")
    params = {f"p{i}": rf"\y{re.escape(word)}\y" for i, word in enumerate(case.words)}
    count_sql = text(f"SELECT count(*) FROM paragraph WHERE {where}")
    page_sql = text(
        f"SELECT id, content, source, word_count, created_at FROM paragraph WHERE {where} ORDER BY id DESC LIMIT 100"
    )

    async def run() -> int:
        async with db.read() as session:
            total = int(await session.scalar(count_sql, params) or 0)
            (await session.execute(page_sql, params)).all()
            return total

    total = await run()
    return await timed(run, repeats, warmup=0), total


def naive_sqlite(path: Path, case: Case, repeats: int) -> tuple[Timing, int]:
    connection = sqlite3.connect(path)
    connection.create_function(
        "regexp", 2, lambda pattern, value: re.search(pattern, value, re.IGNORECASE) is not None, deterministic=True
    )
    where = _regex_where(case.words, case.operator, "content REGEXP ?")
    params = [rf"\b{re.escape(word)}\b" for word in case.words]
    samples, total = [], 0
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            total = connection.execute(f"SELECT count(*) FROM paragraph WHERE {where}", params).fetchone()[0]
            connection.execute(f"SELECT * FROM paragraph WHERE {where} ORDER BY id DESC LIMIT 100", params).fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return Timing(samples), total


def row(engine: str, case: Case, mine: Timing, total: int, naive: Timing, naive_total: int) -> str:
    ratio = naive.p50 / mine.p50
    agree = "" if naive_total == total else f" (naive counted {naive_total})"
    return (
        f"| {engine} | {case.label} | `{' '.join(case.words)}` | {total}{agree} | {mine.p50:.2f} | {mine.p95:.2f} "
        f"| {naive.p50:.0f} | {ratio:,.0f}x |"
    )


async def bench_engine(engine: str, database_url: str, args: argparse.Namespace, sqlite_path: Path | None) -> list[str]:
    db = await corpus_of(database_url, args.count)
    try:
        frequencies, words_per_paragraph = await document_frequencies(db)
        lines = [
            f"<!-- {engine}: {args.count} paragraphs, {words_per_paragraph:.0f} words each on average, "
            f"{len(frequencies)} distinct words in the first {SAMPLE} -->"
        ]
        for case in cases(frequencies):
            mine, total = await ours(db, case, args.repeats)
            if sqlite_path is None:
                naive, naive_total = await naive_postgres(db, case, args.naive_repeats)
            else:
                naive, naive_total = await asyncio.to_thread(naive_sqlite, sqlite_path, case, args.naive_repeats)
            lines.append(row(engine, case, mine, total, naive, naive_total))
            print(lines[-1], flush=True)
        return lines
    finally:
        await db.dispose()


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    for engine in args.engines:
        if engine == "postgresql":
            url, path = await ensure_postgres_database(f"paragraphs_bench_{args.count}"), None
        else:
            path = OUT / f"paragraphs_{args.count}.db"
            url = f"sqlite:///{path}"
        lines = await bench_engine(engine, url, args, path)
        results.write_section(f"search on {engine}", "\n".join(header(args) + lines))


def header(args: argparse.Namespace) -> list[str]:
    return [
        f"Command: `python -m bench.search --count {args.count} --repeats {args.repeats} --naive-repeats {args.naive_repeats}` "
        "(`make bench-search`)  ",
        f"Machine: {machine()}  ",
        f"Corpus: {args.count} paragraphs from `paragraphs seed --seed {20261122}` (offline generator), limit 100, "
        f"our p50/p95 over {args.repeats} runs after a warm-up, naive p50 over {args.naive_repeats} runs; "
        "times in ms; ratio = naive p50 / our p50.",
        "",
        "| engine | query | words | total_count | ours p50 | ours p95 | naive p50 | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    asyncio.run(main(parser.parse_args()))
