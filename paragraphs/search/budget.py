"""A search's time budget, enforced by the database itself.

PostgreSQL: `SET LOCAL statement_timeout` in the search's transaction; the server cancels a statement
that runs longer (SQLSTATE 57014) and frees its backend. SQLite: a progress handler on the
connection, called every PROGRESS_STEPS virtual-machine instructions in aiosqlite's thread, aborts the
statement (SQLITE_INTERRUPT) once the deadline has passed or the request was cancelled (its client
went away, budget.py). Either way the caller gets QueryTooExpensive: a 503 with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from paragraphs.db.engine import timeout_ms
from paragraphs.errors import QueryTooExpensive

QUERY_CANCELED = "57014"  # PostgreSQL's query_canceled: statement_timeout (or a cancel request)
PROGRESS_STEPS = 1_000  # ~0.1 ms of work between two looks at the clock


def too_expensive(budget_s: float) -> QueryTooExpensive:
    return QueryTooExpensive(
        f"the search was too expensive and was stopped after {budget_s:g} s; "
        "ask for fewer or rarer words, a smaller offset, or `order: newest`"
    )


def _ran_out(exc: DBAPIError) -> bool:
    orig = exc.orig
    return (
        getattr(orig, "sqlstate", None) == QUERY_CANCELED
        or getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT
    )


@asynccontextmanager
async def time_budget(
    connection: AsyncConnection, budget_s: float, connection_timeout_s: float | None = None
) -> AsyncIterator[None]:
    """Statements run on `connection` inside the block stop after `budget_s` (each, on PostgreSQL;
    together, on SQLite), raising QueryTooExpensive. `connection_timeout_s`: the PostgreSQL
    connection's own `statement_timeout` (Database.search_timeout_s); when it is the budget, no
    `SET LOCAL` is sent."""
    try:
        if connection.dialect.name == "postgresql":
            if connection_timeout_s is None or timeout_ms(connection_timeout_s) != timeout_ms(budget_s):
                # An integer of milliseconds, never user input: safe to format into the statement.
                await connection.execute(text(f"SET LOCAL statement_timeout = {timeout_ms(budget_s)}"))
            yield
        else:
            async with _progress_deadline(connection, budget_s):
                yield
    except DBAPIError as exc:
        if _ran_out(exc):
            raise too_expensive(budget_s) from exc
        raise


@asynccontextmanager
async def _progress_deadline(connection: AsyncConnection, budget_s: float) -> AsyncIterator[None]:
    raw = await connection.get_raw_connection()
    aiosqlite_connection = raw.driver_connection
    assert aiosqlite_connection is not None  # noqa: S101 - a live pooled connection
    deadline = time.monotonic() + budget_s
    cancelled = False

    def stop() -> int:
        return int(cancelled or time.monotonic() > deadline)

    await aiosqlite_connection.set_progress_handler(stop, PROGRESS_STEPS)
    try:
        yield
    except asyncio.CancelledError:
        cancelled = True  # the statement still running in aiosqlite's thread stops at its next step
        raise
    finally:
        # Queued behind the running statement in aiosqlite's thread; shielded so a cancelled request
        # still leaves the pooled connection without our handler.
        await asyncio.shield(aiosqlite_connection.set_progress_handler(None, 0))
