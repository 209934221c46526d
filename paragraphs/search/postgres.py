"""PostgreSQL: table `paragraph_search` (paragraph_id, vector tsvector), GIN-indexed on `vector`.

The vector is built from our words, with positions (for ts_rank's weights), and handed to PostgreSQL as a
tsvector *value* (`'don''t':3`): to_tsvector's parser would split `don't`. The hot statements (the
count and the newest-first page) take the query as one bound tsquery value of quoted words
(`'comfy' & 'young'`, `tsquery_literal`): fixed text, compiled once and prepared once per connection.
The relevance statements build it per word with `quote_literal(:word)::tsquery`. Either way words are
never spliced into SQL, and never read as tsquery syntax. Newest first walks the primary key
backwards or sorts the GIN bitmap's matches, chosen per query (docs/search.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    String,
    any_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.search import postings, relevance
from paragraphs.search.index import Document, Query
from paragraphs.search.tsvector import MAX_POSITION, MAX_POSITIONS_PER_LEXEME

ROWS_ESTIMATE_TTL_S = 60.0
# Cost of testing one vector on the primary-key walk over fetching one match from the GIN bitmap,
# measured at 100,000 paragraphs with lz4-compressed vectors (docs/search.md).
WALK_COST_RATIO = 9.0
# One row of the posting bitmaps (a word's 4,096 ids, 512 bytes) costs about what 15 GIN postings read
# or 15 bitmap fetches do: measured at 100,000 paragraphs (docs/search.md, "posting bitmaps").
POSTING_ROW_COST = 15.0

paragraph_search = table("paragraph_search", column("paragraph_id", BigInteger), column("vector", TSVECTOR))


_POSITIONS = [str(position) for position in range(MAX_POSITION + 1)]


def tsvector_literal(words: Sequence[str]) -> str:
    """`words` as tsvector input: each distinct word once, with its 1-based positions.

    Hot in bulk writes (~0.16 ms for 570 words): positions as precomputed strings, one pass.
    """
    positions: dict[str, list[str]] = {}
    for position, word in enumerate(words, start=1):
        found = positions.get(word)
        label = _POSITIONS[min(position, MAX_POSITION)]
        if found is None:
            positions[word] = [label]
        elif found[-1] != label:  # past MAX_POSITION every position is the same: keep it once
            found.append(label)
    # Words hold only letters, digits, marks and `'` (paragraphs.text), so doubling `'` is all the
    # quoting tsvector input needs: no backslash or space can occur.
    return " ".join(
        [
            "'" + (word.replace("'", "''") if "'" in word else word) + "':" + ",".join(found[:MAX_POSITIONS_PER_LEXEME])
            for word, found in positions.items()
        ]
    )


def _tsquery(query: Query) -> ColumnElement[str]:
    terms = [cast(func.quote_literal(literal(word, String)), TSQUERY) for word in query.words]
    combined: ColumnElement[str] = terms[0]
    for term in terms[1:]:
        combined = combined.op("&&" if query.operator == "and" else "||", return_type=TSQUERY)(term)
    return combined


def tsquery_literal(query: Query) -> str:
    """The query as tsquery input: each word a quoted lexeme (`'don''t' & 'the'`).

    Words hold only letters, digits, marks and `'` (paragraphs.text), and inside quotes tsquery input
    reads everything but `'` (doubled) and a backslash (never in a word) as the lexeme: a word can
    never be an operator (`&`, `|`, `!`, `<->`), a prefix (`:*`) or a weight.
    """
    joiner = " & " if query.operator == "and" else " | "
    return joiner.join("'" + word.replace("'", "''") + "'" for word in query.words)


_COUNT = text("SELECT count(*) FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery)")
_NEWEST_BY_KEY = text(
    "SELECT paragraph_id FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery) "
    "ORDER BY paragraph_id DESC LIMIT :limit OFFSET :offset"
)
# `+ 0`: not in index order, so the primary key cannot serve it and the GIN bitmap + top-N sort does.
_NEWEST_BY_BITMAP = text(
    "SELECT paragraph_id FROM paragraph_search WHERE vector @@ CAST(:q AS tsquery) "
    "ORDER BY paragraph_id + 0 DESC LIMIT :limit OFFSET :offset"
)
_NO_BITMAP = text("SET LOCAL enable_bitmapscan = off")


def _rank(query: Query) -> ColumnElement[float]:
    # ts_rank, not ts_rank_cd: cover density cost 1.6 ms a vector for a 50-word query (1.8 s for
    # 1,000 candidates at 100,000 paragraphs), ts_rank 65 us (docs/search.md, "Bounded cost").
    return func.ts_rank(paragraph_search.c.vector, _tsquery(query))


def _match(query: Query) -> ColumnElement[bool]:
    return paragraph_search.c.vector.bool_op("@@")(_tsquery(query))


def gin_postings(query: Query, frequencies: Mapping[str, int]) -> int:
    """About how many GIN postings counting `query` reads: every word's list for an OR; for an AND
    the rarest word's, once per word (GIN advances the other lists to its ids)."""
    found = [frequencies.get(word, 0) for word in query.words]
    return sum(found) if query.operator == "or" else min(found, default=0) * len(found)


class PostgresIndex:
    """`posting_row_cost` (0: always the posting bitmaps, math.inf: never) chooses between GIN and the
    bitmaps (postings.py) for counts and newest-first pages; both are exact, only the cost differs."""

    def __init__(
        self,
        walk_cost_ratio: float = WALK_COST_RATIO,
        relevance_candidates: int = relevance.RELEVANCE_CANDIDATES,
        posting_row_cost: float = POSTING_ROW_COST,
    ) -> None:
        self.walk_cost_ratio = walk_cost_ratio
        self.relevance_candidates = relevance_candidates
        self.posting_row_cost = posting_row_cost
        self._rows_estimate = 0.0
        self._rows_checked_at = -math.inf

    async def add(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        if not documents:
            return
        await self._store_vectors(session, documents)
        await postings.write(await session.connection(), postings.masks_of(documents), "|")

    async def remove(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        if not documents:
            return
        ids = [doc.paragraph_id for doc in documents]
        await session.execute(delete(paragraph_search).where(paragraph_search.c.paragraph_id.in_(ids)))
        await postings.write(await session.connection(), postings.masks_of(documents), "& ~")

    async def replace(self, session: AsyncSession, old: Document, new: Document) -> None:
        """One paragraph's words changed: its vector replaced, and only the bits of the words that
        came or went flipped, in one pass in (word, block) order (a remove pass, then an add pass,
        would lock rows out of order: two writers could deadlock)."""
        await self._store_vectors(session, [new])
        before, after = postings.masks_of([old]), postings.masks_of([new])
        flips = {key: before.get(key, 0) ^ after.get(key, 0) for key in before.keys() ^ after.keys()}
        await postings.write(await session.connection(), flips, "#")

    async def _store_vectors(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        statement = insert(paragraph_search).values(
            paragraph_id=bindparam("pid"), vector=cast(bindparam("vector"), TSVECTOR)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[paragraph_search.c.paragraph_id], set_={"vector": statement.excluded.vector}
        )
        rows = [{"pid": doc.paragraph_id, "vector": tsvector_literal(doc.words)} for doc in documents]
        await session.execute(statement, rows)

    async def count(
        self, connection: AsyncConnection, query: Query, frequencies: Mapping[str, int] | None = None
    ) -> int:
        """Run on `Database.search_engine`, whose connections never plan a sequential scan. With the
        words' `frequencies` (document frequencies), by the posting bitmaps when GIN would read more
        postings than the bitmaps' rows cost."""
        if frequencies is not None and gin_postings(query, frequencies) >= await self._postings_cost(connection, query):
            return await postings.count(connection, query)
        return int(await connection.scalar(_COUNT, {"q": tsquery_literal(query)}) or 0)

    async def page(self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int) -> list[int]:
        if query.order != "relevance":
            return await self.newest(connection, query, limit, offset, matches)
        if matches > self.relevance_candidates:
            return await relevance.page(self, connection, query, limit, offset, matches, self.relevance_candidates)
        ids = paragraph_search.c.paragraph_id
        statement = select(ids).where(_match(query)).order_by(_rank(query).desc(), ids.desc())
        return list((await connection.scalars(statement.limit(limit).offset(offset))).all())

    async def rank(
        self, connection: AsyncConnection, query: Query, candidates: list[int], limit: int, offset: int
    ) -> list[int]:
        """`candidates` (ids of matches) by relevance, ties newest first: one primary-key lookup each."""
        ids = paragraph_search.c.paragraph_id
        statement = (
            select(ids)
            .where(ids == any_(cast(bindparam("candidates", candidates), ARRAY(BigInteger))))
            .order_by(_rank(query).desc(), ids.desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await connection.scalars(statement)).all())

    async def newest(
        self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int
    ) -> list[int]:
        """Newest first by the cheapest of three plans. We know `matches` exactly (the count ran first),
        so we choose, instead of the planner, whose estimates for rare words are off by 100x and which
        chose a 470 ms walk for a word in 125 of 100,000 paragraphs:
        - walk the primary key backwards: tests `wanted * rows / matches` vectors (~4.4 us each, a
          detoast and a match), `walk_cost_ratio` times a bitmap fetch;
        - the GIN bitmap: fetches all `matches` (~0.5 us each) and sorts them;
        - the posting bitmaps, when the cheaper of those two costs as much as their rows or more: a deep
          page, or a page of common words (postings.newest reads the words' blocks, not the matches).
        """
        rows = max(await self._rows(connection), float(matches))
        walk = self.walk_cost_ratio * (limit + offset) * rows / max(matches, 1)
        if min(walk, matches) >= await self._postings_cost(connection, query):
            return await postings.newest(connection, query, limit, offset)
        if walk < matches:
            await connection.execute(_NO_BITMAP)
            statement = _NEWEST_BY_KEY
        else:
            statement = _NEWEST_BY_BITMAP
        params = {"q": tsquery_literal(query), "limit": limit, "offset": offset}
        return list((await connection.scalars(statement, params)).all())

    async def _postings_cost(self, connection: AsyncConnection, query: Query) -> float:
        """The bitmaps' rows for `query` (one per word and block of 4,096 ids: ids are dense but for
        deleted paragraphs), weighed in GIN postings."""
        blocks = await self._rows(connection) / postings.BLOCK_BITS + 1
        return self.posting_row_cost * len(query.words) * blocks

    async def _rows(self, connection: AsyncConnection) -> float:
        """The planner's estimate of the table's rows, asked again at most once a minute."""
        now = time.monotonic()
        if now - self._rows_checked_at > ROWS_ESTIMATE_TTL_S:
            estimate = await connection.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = 'paragraph_search'::regclass")
            )
            self._rows_estimate, self._rows_checked_at = max(float(estimate or 0), 0.0), now
        return self._rows_estimate


INDEX = PostgresIndex()
