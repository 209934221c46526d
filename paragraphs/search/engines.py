"""Which index a session's database uses."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs.search import postgres, sqlite
from paragraphs.search.index import SearchIndex


def index_for(session: AsyncSession) -> SearchIndex:
    return sqlite.INDEX if session.get_bind().dialect.name == "sqlite" else postgres.INDEX
