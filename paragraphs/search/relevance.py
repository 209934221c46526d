"""`order: relevance` over a bounded candidate set: the RELEVANCE_CANDIDATES newest matches.

Ranking every match cost 63.7 s on PostgreSQL (5-7 s on SQLite) for an OR of the 50 most common
words at 100,000 paragraphs: the ranking functions score each match, and a common-word query matches
them all. So a relevance search ranks the newest RELEVANCE_CANDIDATES matches (found the way a
newest-first page is) and orders them by score, ties newest first; past them the order is newest
first. When there are no more matches than candidates, that is every match ranked, as before.
`total_count` still counts every match. docs/search.md has the figures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from paragraphs.search.index import Query

RELEVANCE_CANDIDATES = 1_000


class _SyncRanks(Protocol):
    def newest(self, query: Query, limit: int, offset: int) -> list[int]: ...

    def rank(self, query: Query, candidates: list[int], limit: int, offset: int) -> list[int]: ...


class _Ranks(Protocol):
    async def newest(
        self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int
    ) -> list[int]: ...

    async def rank(
        self, connection: AsyncConnection, query: Query, candidates: list[int], limit: int, offset: int
    ) -> list[int]: ...


async def page(
    index: _Ranks, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int, candidates: int
) -> list[int]:
    """A relevance page when `matches` > `candidates`: the ranked candidates, then newest first."""
    newest = replace(query, order="newest")
    ids: list[int] = []
    if offset < candidates:
        ranked = await index.newest(connection, newest, candidates, 0, matches)
        ids = await index.rank(connection, query, ranked, min(limit, candidates - offset), offset)
    rest = limit - len(ids)
    if rest > 0:
        ids += await index.newest(connection, newest, rest, max(offset, candidates), matches)
    return ids


def page_sync(index: _SyncRanks, query: Query, limit: int, offset: int, candidates: int) -> list[int]:
    """`page` for an index read synchronously (SQLite's hot path, search/sqlite_read.py)."""
    newest = replace(query, order="newest")
    ids: list[int] = []
    if offset < candidates:
        ids = index.rank(query, index.newest(newest, candidates, 0), min(limit, candidates - offset), offset)
    rest = limit - len(ids)
    if rest > 0:
        ids += index.newest(newest, rest, max(offset, candidates))
    return ids
