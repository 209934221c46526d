"""Which index a database uses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.search import postgres, sqlite
from paragraphs.search.index import SearchIndex


def index_for(bind: AsyncSession | AsyncConnection) -> SearchIndex:
    name = bind.get_bind().dialect.name if isinstance(bind, AsyncSession) else bind.dialect.name
    return sqlite.INDEX if name == "sqlite" else postgres.INDEX
