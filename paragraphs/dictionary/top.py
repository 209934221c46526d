"""The most frequent words, read as cheaply as each engine allows: /dictionary's misses and the
warming job read them after nearly every write.

- SQLite in a file: in the event loop on the reader's own connection (an index read, ~0.1 ms;
  `SqliteReader.run_soon`), as searches do; through SQLAlchemy and aiosqlite it was ~20 thread hops.
- PostgreSQL: one statement outside a transaction, one round trip instead of three (BEGIN, SELECT,
  ROLLBACK).
"""

from __future__ import annotations

import sqlite3

from paragraphs.db.engine import Database
from paragraphs.dictionary import counts

# counts.top_words's statement, for sqlite3 (the same rows: tests/dictionary/test_top.py).
TOP_SQL = "SELECT word, count FROM word_count WHERE count > 0 ORDER BY count DESC, word LIMIT ?"
# An index read of at most 100 rows; the budget only guards against the unexpected.
BUDGET_S = 5.0


def _top(connection: sqlite3.Connection, limit: int) -> list[tuple[str, int]]:
    return [(str(word), int(count)) for word, count in connection.execute(TOP_SQL, (limit,))]


async def top_words(db: Database, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent words: count descending, then word ascending."""
    if db.sqlite_reader is not None:
        return await db.sqlite_reader.run_soon(lambda connection: _top(connection, limit), BUDGET_S)
    async with db.search_engine.connect() as connection:
        if db.dialect == "postgresql":
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await counts.top_words(connection, limit)
