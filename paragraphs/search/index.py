"""The full-text index behind one protocol; PostgreSQL (postgres.py) and SQLite (sqlite.py) implement it.

Both are fed the words of `paragraphs.text`, never a database's own parser, so the index agrees with
word counts and with a brute-force scan. They are written in the paragraph's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

Operator = Literal["and", "or"]
Order = Literal["newest", "relevance"]


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]  # distinct, sorted: one normal form per question
    operator: Operator
    order: Order = "newest"


@dataclass(frozen=True)
class Document:
    paragraph_id: int
    words: Sequence[str]


class SearchIndex(Protocol):
    async def add(self, session: AsyncSession, documents: Sequence[Document]) -> None: ...

    async def remove(self, session: AsyncSession, documents: Sequence[Document]) -> None:
        """`documents` must carry the words the paragraphs were indexed with."""
        ...

    async def count(self, session: AsyncSession, query: Query) -> int: ...

    async def page(self, session: AsyncSession, query: Query, limit: int, offset: int) -> list[int]:
        """Matching paragraph ids in the query's order."""
        ...
