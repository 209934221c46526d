"""Search benchmark: our index-backed search against the naive regex scan, same data, same run.

    python -m bench.search [--count 100000] [--repeats 30] [--naive-repeats 3]

PostgreSQL: a database `paragraphs_bench_<count>` (prefix: PARAGRAPHS_BENCH_DB_PREFIX) (created, migrated and seeded once, then reused).
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
from bench.common import DB_PREFIX, NullCache, Timing, corpus_of, ensure_postgres_database, machine, timed
from paragraphs import text as tokenizer
from paragraphs.db.engine import Database
from paragraphs.db.models import Paragraph
from paragraphs.logs import configure_logging
from paragraphs.search import postgres as postgres_index
from paragraphs.search import service as search_service
from paragraphs.search import sqlite as sqlite_index
from paragraphs.search.index import Query
from paragraphs.search.schemas import SearchRequest

OUT = Path(__file__).parent / "out"
SAMPLE = 5000


@dataclass(frozen=True)
class Case:
    label: str
    words: tuple[str, ...]
    operator: str
    offset: int = 0
    naive: bool = True  # the regex scan of OR-of-10 or deep pages takes minutes: not run


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


def cases(frequencies: dict[str, float], count: int) -> list[Case]:
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
        Case("OR of 10 common words", tuple(pick(0.5 + 0.04 * i) for i in range(10)), "or", naive=False),
        Case(f"common, offset {count // 10:,}", (common,), "and", offset=count // 10, naive=False),
    ]


async def ours(db: Database, case: Case, repeats: int) -> tuple[Timing, int]:
    request = SearchRequest(words=list(case.words), operator=case.operator, limit=100, offset=case.offset)  # type: ignore[arg-type]
    cache = NullCache()
    response, _ = await search_service.search(db, cache, request)
    timing = await timed(lambda: search_service.search_json(db, cache, request), repeats)
    return timing, response.total_count


_PG_COUNT = "SELECT count(*) FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery)"
_PG_PAGE = (
    "SELECT paragraph_id FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery) "
    "ORDER BY paragraph_id DESC LIMIT 100 OFFSET :offset"
)
_ROWS = "SELECT id, content, source, word_count, created_at FROM paragraph WHERE id IN ({ids})"


async def raw_postgres(db: Database, case: Case, repeats: int) -> Timing:
    """The index alone: GIN count, then the page as the planner likes it, then the page's rows."""
    params = {"q": postgres_index.tsquery_literal(Query(case.words, case.operator)), "offset": case.offset}  # type: ignore[arg-type]

    async def run() -> None:
        async with db.search_engine.connect() as connection:
            # The search connections' statement_timeout is the service's budget; the raw index has none.
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            await connection.scalar(text(_PG_COUNT), params)
            ids = list((await connection.scalars(text(_PG_PAGE), params)).all())
            if ids:
                await connection.execute(text(_ROWS.format(ids=",".join(map(str, ids)))))

    return await timed(run, repeats)


def raw_sqlite(path: Path, case: Case, repeats: int) -> Timing:
    """The FTS5 index alone, in-process: count, page of rowids, the page's rows."""
    connection = sqlite3.connect(path)
    match = sqlite_index.match_expression(Query(case.words, case.operator))  # type: ignore[arg-type]
    samples = []
    try:
        for n in range(repeats + 1):
            started = time.perf_counter()
            connection.execute("SELECT count(*) FROM paragraph_fts WHERE paragraph_fts MATCH ?", [match]).fetchone()
            ids = [
                row[0]
                for row in connection.execute(
                    "SELECT rowid FROM paragraph_fts WHERE paragraph_fts MATCH ? ORDER BY rowid DESC LIMIT 100 OFFSET ?",
                    [match, case.offset],
                )
            ]
            if ids:
                connection.execute(_ROWS.format(ids=",".join(map(str, ids)))).fetchall()
            if n:  # the first run warms up
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return Timing(samples)


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


def row(engine: str, case: Case, mine: Timing, total: int, raw: Timing, naive: tuple[Timing, int] | None) -> str:
    words = " ".join(case.words) if len(case.words) <= 3 else f"{' '.join(case.words[:3])} … ({len(case.words)})"
    if naive is None:
        naive_cells = "| not run | |"
    else:
        agree = "" if naive[1] == total else f" (naive counted {naive[1]})"
        naive_cells = f"| {naive[0].p50:.0f}{agree} | {naive[0].p50 / mine.p50:,.0f}x |"
    return (
        f"| {engine} | {case.label} | `{words}` | {total} | {mine.p50:.2f} | {mine.p95:.2f} "
        f"| {raw.p50:.2f} | {mine.p50 / raw.p50:.1f}x {naive_cells}"
    )


async def bench_engine(engine: str, database_url: str, args: argparse.Namespace, sqlite_path: Path | None) -> list[str]:
    db = await corpus_of(database_url, args.count)
    try:
        frequencies, words_per_paragraph = await document_frequencies(db)
        lines = [
            f"<!-- {engine}: {args.count} paragraphs, {words_per_paragraph:.0f} words each on average, "
            f"{len(frequencies)} distinct words in the first {SAMPLE} -->"
        ]
        for case in cases(frequencies, args.count):
            mine, total = await ours(db, case, args.repeats)
            if sqlite_path is None:
                raw = await raw_postgres(db, case, args.repeats)
            else:
                raw = await asyncio.to_thread(raw_sqlite, sqlite_path, case, args.repeats)
            naive: tuple[Timing, int] | None = None
            if case.naive and args.naive_repeats:
                if sqlite_path is None:
                    naive = await naive_postgres(db, case, args.naive_repeats)
                else:
                    naive = await asyncio.to_thread(naive_sqlite, sqlite_path, case, args.naive_repeats)
            lines.append(row(engine, case, mine, total, raw, naive))
            print(lines[-1], flush=True)
        return lines
    finally:
        await db.dispose()


DEFAULT_COUNT = 100_000


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    OUT.mkdir(exist_ok=True)
    for engine in args.engines:
        if engine == "postgresql":
            url, path = await ensure_postgres_database(f"{DB_PREFIX}_{args.count}"), None
        else:
            path = OUT / f"paragraphs_{args.count}.db"
            url = f"sqlite:///{path}"
        lines = await bench_engine(engine, url, args, path)
        # One section per engine and corpus size: the 1,000,000 run must not replace the 100,000 one.
        size = "" if args.count == DEFAULT_COUNT else f" at {args.count:,} paragraphs"
        results.write_section(f"search on {engine}{size}", "\n".join(header(args) + lines))


def header(args: argparse.Namespace) -> list[str]:
    return [
        f"Command: `python -m bench.search --count {args.count} --repeats {args.repeats} --naive-repeats {args.naive_repeats}`"
        f"{' (`make bench-search`)' if args.count == DEFAULT_COUNT else ''}  ",
        f"Machine: {machine()}  ",
        f"Corpus: {args.count} paragraphs from `paragraphs seed --seed {20261122}` (offline generator), limit 100, "
        f"our p50/p95 over {args.repeats} runs after a warm-up, naive p50 over {args.naive_repeats} runs; "
        "times in ms. Ours: the service (`search_json`, result cache off; limit 100); raw index: the same count, page and "
        "rows as bare SQL on one connection (GIN count + `ORDER BY id DESC` as the planner likes; FTS5 in-process).",
        "",
        "| engine | query | words | total_count | ours p50 | ours p95 | raw index p50 | ours / raw | naive p50 | naive / ours |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--naive-repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"])
    asyncio.run(main(parser.parse_args()))
