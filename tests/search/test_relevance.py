"""`order: relevance` ranks the newest N matches (N = relevance_candidates), then goes on newest first."""

from __future__ import annotations

import functools

import pytest

from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.search import sqlite_read
from paragraphs.search.index import Query
from paragraphs.search.postgres import PostgresIndex
from paragraphs.search.sqlite import SqliteIndex

# Paragraph i (1..20) holds "fig" FIGS[i-1] times in ten words: more figs, more relevant, on both
# engines' scores (bm25 and ts_rank alike grow with the occurrences in a paragraph of one length).
FIGS = [3, 9, 1, 7, 5, 2, 8, 4, 6, 1, 9, 3, 7, 2, 5, 8, 4, 6, 1, 10]
FIG = Query(words=("fig",), operator="and", order="relevance")


def index_for(db: Database, candidates: int) -> PostgresIndex | SqliteIndex:
    return PostgresIndex(relevance_candidates=candidates) if db.dialect == "postgresql" else SqliteIndex(candidates)


async def seed(db: Database) -> list[int]:
    async with db.write() as session:
        return await corpus_service.create_paragraphs(
            session,
            [
                corpus_service.Tokenized(c, c.split())
                for c in (" ".join(["fig"] * n + ["pad"] * (10 - n)) for n in FIGS)
            ],
            Source.IMPORT,
        )


async def all_pages(db: Database, index: PostgresIndex | SqliteIndex, page_size: int) -> list[int]:
    seen: list[int] = []
    async with db.search_engine.connect() as connection:
        matches = await index.count(connection, FIG)
        assert matches == len(FIGS)
        for offset in range(0, matches, page_size):
            seen += await index.page(connection, FIG, page_size, offset, matches)
    return seen


def by_figs(ids: list[int], figs: dict[int, int]) -> list[int]:
    return sorted(ids, key=lambda pid: (-figs[pid], -pid))


class TestBoundedRelevance:
    @pytest.mark.parametrize("page_size", [1, 3, 7, 20])
    async def test_the_newest_candidates_ranked_then_newest_first(self, db: Database, page_size: int) -> None:
        ids = await seed(db)
        figs = dict(zip(ids, FIGS, strict=True))
        newest = sorted(ids, reverse=True)
        expected = by_figs(newest[:8], figs) + newest[8:]
        assert await all_pages(db, index_for(db, 8), page_size) == expected

    async def test_no_more_matches_than_candidates_ranks_them_all(self, db: Database) -> None:
        ids = await seed(db)
        figs = dict(zip(ids, FIGS, strict=True))
        assert await all_pages(db, index_for(db, 20), 6) == by_figs(ids, figs)
        assert await all_pages(db, index_for(db, 1_000), 6) == by_figs(ids, figs)


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
class TestSqliteHotPath:
    """The same pages from search/sqlite_read.py, the whole read in one call on a plain connection."""

    @pytest.mark.parametrize(("candidates", "page_size"), [(8, 1), (8, 3), (8, 7), (20, 6), (1_000, 6)])
    async def test_the_same_pages_as_the_index(self, db: Database, candidates: int, page_size: int) -> None:
        ids = await seed(db)
        reader = db.sqlite_reader
        assert reader is not None
        seen: list[int] = []
        for offset in range(0, len(FIGS), page_size):
            found = await reader.run(
                functools.partial(sqlite_read.find, query=FIG, limit=page_size, offset=offset, candidates=candidates),
                5.0,
            )
            assert found is not None
            assert found.total == len(FIGS)
            seen += [row.id for row in found.rows]
        assert seen == await all_pages(db, index_for(db, candidates), page_size)
        assert sorted(seen) == sorted(ids)

    async def test_a_search_past_its_inline_limit_is_left_to_the_pool(self, db: Database) -> None:
        await seed(db)
        reader = db.sqlite_reader
        assert reader is not None
        costly = functools.partial(sqlite_read.find, query=FIG, limit=5, offset=0, candidates=8, max_postings=10)
        assert reader.run_inline(costly, 5.0) is None
        unknown = Query(words=("nowhere",), operator="and")
        nothing = reader.run_inline(
            functools.partial(sqlite_read.find, query=unknown, limit=5, offset=0, candidates=8, max_postings=0), 5.0
        )
        assert nothing is not None
        assert (nothing.total, nothing.rows) == (0, [])
