"""The full-text index behind one protocol; PostgreSQL (postgres.py) and SQLite (sqlite.py) implement it.

Both are fed the words of `paragraphs.text`, never a database's own parser, so the index agrees with
word counts and with a brute-force scan. They are written in the paragraph's own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Operator = Literal["and", "or"]
Order = Literal["newest", "relevance"]


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]  # distinct, sorted: one normal form per question
    operator: Operator
    order: Order = "newest"


def counted_from_frequencies(query: Query, frequencies: Mapping[str, int]) -> tuple[Query, int | None]:
    """What the word counts (`frequencies`: in how many paragraphs each word occurs) say of a query:
    the query the index needs (an OR's unknown words left out), and its exact number of matches if
    they tell it (an AND with an unknown word matches nothing; one known word, its frequency), else
    None: the index must count."""
    present = tuple(word for word in query.words if frequencies.get(word))
    if not present or (query.operator == "and" and len(present) < len(query.words)):
        return query, 0
    query = replace(query, words=present)
    return query, (frequencies[present[0]] if len(present) == 1 else None)


@dataclass(frozen=True)
class Document:
    paragraph_id: int
    words: Sequence[str]


class SearchIndex(Protocol):
    async def add(self, session: AsyncSession, documents: Sequence[Document]) -> None: ...

    async def remove(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        """`documents` must carry the words the paragraphs were indexed with."""
        ...

    async def replace(self, session: AsyncSession, old: Document, new: Document) -> None:
        """A paragraph's words changed: `old` must carry the words it was indexed with."""
        ...

    # Reads take a Core connection: the search path is hot, and an ORM session costs ~1 ms a statement here.
    async def count(
        self, connection: AsyncConnection, query: Query, frequencies: Mapping[str, int] | None = None
    ) -> int:
        """`frequencies`: the words' document frequencies if known (an index may use them to plan)."""
        ...

    async def page(self, connection: AsyncConnection, query: Query, limit: int, offset: int, matches: int) -> list[int]:
        """Matching paragraph ids in the query's order; `matches` is what `count` said."""
        ...
