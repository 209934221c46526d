"""The most expensive search a client can ask for, at service level and over HTTP (issue 8, item 3):
an OR of the 50 most common words, `order: relevance`, offset 98,000, limit 1,000.

    python -m bench.expensive --database-url URL [--repeats 5]

URL holds a seeded corpus (`paragraphs seed --count 100000`). Service level = `search_service.search`
with the result cache disabled; the search budget is raised to 120 s so the figure is the full cost.
"""

from __future__ import annotations

import argparse
import asyncio

from sqlalchemy import func, select

from bench.common import NullCache, timed
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Paragraph
from paragraphs.dictionary import counts
from paragraphs.logs import configure_logging
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest

BUDGET_S = 120.0


async def cases(db: Database) -> dict[str, SearchRequest]:
    async with db.read() as session:
        common = [word for word, _ in await counts.top_words(session, 50)]
        paragraphs = int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)
        _, distinct = await counts.distinct_words(session)
    print(f"{paragraphs} paragraphs, {distinct} distinct words; the 50 most common: {' '.join(common[:8])} ...")
    deep = max(0, min(98_000, paragraphs - 2_000))
    return {
        f"OR of 50 common words, relevance, offset {deep:,}, limit 1,000": SearchRequest(
            words=common, operator="or", order="relevance", offset=deep, limit=1000
        ),
        "OR of 50 common words, relevance, offset 0, limit 1,000": SearchRequest(
            words=common, operator="or", order="relevance", offset=0, limit=1000
        ),
        "OR of 50 common words, relevance, offset 0, limit 10": SearchRequest(
            words=common, operator="or", order="relevance", limit=10
        ),
        "OR of 50 common words, newest, offset 0, limit 10": SearchRequest(
            words=common, operator="or", order="newest", limit=10
        ),
    }


async def main(database_url: str, repeats: int) -> None:
    configure_logging("warning")
    db = create_database(database_url, pool_size=2)
    try:
        for label, request in (await cases(db)).items():

            async def once(request: SearchRequest = request) -> object:
                return await search_service.search(db, NullCache(), request, BUDGET_S)

            timing = await timed(once, repeats)
            print(f"{db.dialect:10} {label:60} p50 {timing.p50:8.1f} ms  max {max(timing.samples_ms):8.1f} ms")
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.repeats))
