"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per run, migrated once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from paragraphs.db import migrate
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Base


async def create_postgres_database(admin_url: str) -> str:
    """A new empty database beside `admin_url`'s; returns its URL."""
    url = make_url(admin_url)
    name = f"paragraphs_test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    connection = await asyncpg.connect(
        make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'paragraphs.db'}"


async def migrated(database_url: str) -> AsyncIterator[Database]:
    db = create_database(database_url, pool_size=5)
    await migrate.upgrade(db.write_engine)
    try:
        yield db
    finally:
        await db.dispose()


async def empty_tables(db: Database) -> None:
    """Delete every row and restart ids: each test starts from an empty, migrated database."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with db.write() as session:
        if db.dialect == "postgresql":
            # CASCADE empties paragraph_search too; word_posting (PostgreSQL only) refers to no table.
            await session.execute(text(f"TRUNCATE {', '.join(tables)}, word_posting RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names
            await session.execute(text("DELETE FROM sqlite_sequence"))
            await session.execute(text("INSERT INTO paragraph_fts (paragraph_fts) VALUES ('delete-all')"))
        # The migration's single row, as a fresh database has it.
        await session.execute(text("INSERT INTO corpus_state (id, version) VALUES (1, 0)"))
