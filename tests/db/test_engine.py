"""Engine URLs, and transactions that are all-or-nothing on both engines."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from paragraphs.corpus import service as corpus_service
from paragraphs.db import migrate
from paragraphs.db.engine import Database, async_url, dialect_of
from paragraphs.db.models import Paragraph, Source


class TestAsyncUrl:
    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("sqlite:///./data/paragraphs.db", "sqlite+aiosqlite:///./data/paragraphs.db"),
            ("sqlite+pysqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
            ("postgresql://postgres@127.0.0.1:5432/db", "postgresql+asyncpg://postgres@127.0.0.1:5432/db"),
            ("postgresql+psycopg2://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
            ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ],
    )
    def test_picks_the_async_driver(self, given: str, expected: str) -> None:
        assert async_url(given).render_as_string(hide_password=False) == expected

    def test_dialect(self) -> None:
        assert dialect_of("sqlite:///x.db") == "sqlite"
        assert dialect_of("postgresql://h/db") == "postgresql"

    def test_rejects_other_databases(self) -> None:
        with pytest.raises(ValueError, match="unsupported"):
            async_url("mysql://root@localhost/db")


async def paragraph_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Paragraph)) or 0)


class TestTransactions:
    async def test_an_error_rolls_back_everything(self, db: Database) -> None:
        async def write_then_fail() -> None:
            async with db.write() as session:
                await corpus_service.create_paragraph(session, "kept only if committed", Source.USER)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await write_then_fail()
        assert await paragraph_count(db) == 0

    async def test_concurrent_writers_all_commit(self, db: Database) -> None:
        async def writer(n: int) -> None:
            for i in range(10):
                async with db.write() as session:
                    await corpus_service.create_paragraph(session, f"writer {n} paragraph {i}", Source.USER)

        await asyncio.gather(*(writer(n) for n in range(8)))
        assert await paragraph_count(db) == 80

    async def test_schema_is_at_head(self, db: Database) -> None:
        assert await migrate.is_up_to_date(db.engine)
