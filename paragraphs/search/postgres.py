"""PostgreSQL: table `paragraph_search` (paragraph_id, vector tsvector), GIN-indexed on `vector`.

The vector is built from our words, with positions (for ts_rank_cd), and handed to PostgreSQL as a
tsvector *value* (`'don''t':3`): to_tsvector's parser would split `don't`. Queries are tsquery values
made per word by `quote_literal(:word)::tsquery`, combined with the `&&`/`||` operators: words are
bound parameters, never spliced into SQL or into tsquery syntax. Newest first walks the primary key
backwards; the planner picks that or the GIN index per query (docs/search.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import BigInteger, ColumnElement, String, bindparam, cast, column, delete, func, literal, select, table
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, insert
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs.search.index import Document, Query

# tsvector limits: positions go up to 16383, and at most 256 are kept per lexeme.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256

paragraph_search = table("paragraph_search", column("paragraph_id", BigInteger), column("vector", TSVECTOR))


def tsvector_literal(words: Sequence[str]) -> str:
    """`words` as tsvector input: each distinct word once, with its 1-based positions."""
    positions: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words, start=1):
        kept = positions[word]
        if len(kept) < MAX_POSITIONS_PER_LEXEME:
            kept.append(min(position, MAX_POSITION))
    # Words hold only letters, digits, marks and `'` (paragraphs.text), so doubling `'` is all the
    # quoting tsvector input needs: no backslash or space can occur.
    return " ".join(
        "'{}':{}".format(word.replace("'", "''"), ",".join(map(str, sorted(set(kept)))))
        for word, kept in positions.items()
    )


def _tsquery(query: Query) -> ColumnElement[str]:
    terms = [cast(func.quote_literal(literal(word, String)), TSQUERY) for word in query.words]
    combined: ColumnElement[str] = terms[0]
    for term in terms[1:]:
        combined = combined.op("&&" if query.operator == "and" else "||", return_type=TSQUERY)(term)
    return combined


def _match(query: Query) -> ColumnElement[bool]:
    return paragraph_search.c.vector.bool_op("@@")(_tsquery(query))


class PostgresIndex:
    async def add(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        if not documents:
            return
        statement = insert(paragraph_search).values(
            paragraph_id=bindparam("pid"), vector=cast(bindparam("vector"), TSVECTOR)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[paragraph_search.c.paragraph_id], set_={"vector": statement.excluded.vector}
        )
        rows = [{"pid": doc.paragraph_id, "vector": tsvector_literal(doc.words)} for doc in documents]
        await session.execute(statement, rows)

    async def remove(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        ids = [doc.paragraph_id for doc in documents]
        await session.execute(delete(paragraph_search).where(paragraph_search.c.paragraph_id.in_(ids)))

    async def count(self, session: AsyncSession, query: Query) -> int:
        statement = select(func.count()).select_from(paragraph_search).where(_match(query))
        return int(await session.scalar(statement) or 0)

    async def page(self, session: AsyncSession, query: Query, limit: int, offset: int) -> list[int]:
        ids = paragraph_search.c.paragraph_id
        statement = select(ids).where(_match(query)).limit(limit).offset(offset)
        if query.order == "relevance":
            rank = func.ts_rank_cd(paragraph_search.c.vector, _tsquery(query))
            statement = statement.order_by(rank.desc(), ids.desc())
        else:
            statement = statement.order_by(ids.desc())
        return list((await session.scalars(statement)).all())


INDEX = PostgresIndex()
