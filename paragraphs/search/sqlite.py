"""SQLite: contentless FTS5 table `paragraph_fts(words)`, fed our words joined by spaces.

The `ascii` tokenizer with `'` as a token character splits that text back into exactly our words
(it only separates on ASCII punctuation and space, and our words hold none but `'`) and folds
nothing beyond ASCII case, which our words no longer have. Contentless (`content=''`) keeps the
index from storing the text twice; a delete hands FTS5 the words that were indexed.
Queries are FTS5 phrases in double quotes, one per word, joined by AND/OR: words hold no `"`, so a
query word is always a plain string, never FTS5 syntax (NEAR, *, ^, column filters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.search import relevance
from paragraphs.search.index import Document, Query

CREATE_TABLE = """CREATE VIRTUAL TABLE paragraph_fts USING fts5(words, content='', tokenize="ascii tokenchars ''''")"""

_INSERT = text("INSERT INTO paragraph_fts (rowid, words) VALUES (:pid, :words)")
_DELETE = text("INSERT INTO paragraph_fts (paragraph_fts, rowid, words) VALUES ('delete', :pid, :words)")
# Plain SQL with named parameters: run as it is by sqlite3 on the search's hot path (sqlite_read.py) and,
# wrapped in text(), by SQLAlchemy elsewhere.
COUNT_SQL = "SELECT count(*) FROM paragraph_fts WHERE paragraph_fts MATCH :match"
NEWEST_SQL = (
    "SELECT rowid FROM paragraph_fts WHERE paragraph_fts MATCH :match ORDER BY rowid DESC LIMIT :limit OFFSET :offset"
)
# bm25() is lower for better matches.
RELEVANT_SQL = (
    "SELECT rowid FROM paragraph_fts WHERE paragraph_fts MATCH :match "
    "ORDER BY bm25(paragraph_fts), rowid DESC LIMIT :limit OFFSET :offset"
)
RELEVANT_FROM_SQL = (
    "SELECT rowid FROM paragraph_fts WHERE paragraph_fts MATCH :match AND rowid >= :floor "
    "ORDER BY bm25(paragraph_fts), rowid DESC LIMIT :limit OFFSET :offset"
)
_COUNT, _NEWEST, _RELEVANT, _RELEVANT_FROM = map(text, (COUNT_SQL, NEWEST_SQL, RELEVANT_SQL, RELEVANT_FROM_SQL))


def match_expression(query: Query) -> str:
    joiner = " AND " if query.operator == "and" else " OR "
    return joiner.join('"{}"'.format(word.replace('"', '""')) for word in query.words)


def _rows(documents: Sequence[Document]) -> list[dict[str, object]]:
    return [{"pid": doc.paragraph_id, "words": " ".join(doc.words)} for doc in documents]


class SqliteIndex:
    def __init__(self, relevance_candidates: int = relevance.RELEVANCE_CANDIDATES) -> None:
        self.relevance_candidates = relevance_candidates

    async def add(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        if documents:
            await session.execute(_INSERT, _rows(documents))

    async def remove(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        if documents:
            await session.execute(_DELETE, _rows(documents))

    async def replace(self, session: AsyncSession, old: Document, new: Document) -> None:
        await self.remove(session, [old])
        await self.add(session, [new])

    async def count(
        self, connection: AsyncConnection, query: Query, frequencies: Mapping[str, int] | None = None
    ) -> int:
        return int(await connection.scalar(_COUNT, {"match": match_expression(query)}) or 0)

    async def page(self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int) -> list[int]:
        if query.order == "relevance" and matches > self.relevance_candidates:
            return await relevance.page(self, connection, query, limit, offset, matches, self.relevance_candidates)
        statement = _RELEVANT if query.order == "relevance" else _NEWEST
        params = {"match": match_expression(query), "limit": limit, "offset": offset}
        return list((await connection.scalars(statement, params)).all())

    async def newest(
        self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int
    ) -> list[int]:
        params = {"match": match_expression(query), "limit": limit, "offset": offset}
        return list((await connection.scalars(_NEWEST, params)).all())

    async def rank(
        self, connection: AsyncConnection, query: Query, candidates: list[int], limit: int, offset: int
    ) -> list[int]:
        """`candidates`, the newest matches, by bm25: the matches from the oldest candidate on."""
        if not candidates:
            return []
        params = {"match": match_expression(query), "floor": min(candidates), "limit": limit, "offset": offset}
        return list((await connection.scalars(_RELEVANT_FROM, params)).all())


INDEX = SqliteIndex()
