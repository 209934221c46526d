"""A whole SQLite search as one synchronous function, run in the event loop when it is cheap, else in
one thread hop (db/sqlite_reader.py).

The corpus version, the words' paragraph counts, the FTS5 count if still needed, the page of ids and
the page's rows, all from one snapshot: the same statements as the async path of search/service.py
(the SQL of search/sqlite.py), on a plain sqlite3 connection, without SQLAlchemy's statement
compilation or aiosqlite's hop per cursor call.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

import pydantic_core

from paragraphs.db.sqlite_reader import SqliteReader
from paragraphs.dictionary.counts import WordStates, states_of
from paragraphs.search import relevance
from paragraphs.search import sqlite as sqlite_index
from paragraphs.search.budget import too_expensive
from paragraphs.search.index import Query, counted_from_frequencies

T = TypeVar("T")

VERSION_SQL = "SELECT version FROM corpus_state WHERE id = 1"
FREQUENCIES_SQL = "SELECT word, paragraphs, changes FROM word_count WHERE word IN ({marks})"
ROWS_SQL = "SELECT id, content, source, word_count, created_at FROM paragraph WHERE id IN ({marks})"

# A search that reads at most this many postings runs in the event loop itself: a hop to a thread
# costs 0.1-1 ms on a busy 2-core machine, more than such a search (at 100,000 paragraphs, a page of
# a common word 0.33 ms, medium AND medium 0.8 ms, rare AND common (92k postings) 1.2 ms, rows
# included; bench/RESULTS.md). Past it, the loop would stall for others: the pool takes it.
INLINE_MAX_POSTINGS = 100_000
# An OR merges its words' postings at ~4x an AND's cost per posting (common OR common: 154k postings,
# 7.4 ms; rare AND common: 92k, 1.2 ms).
OR_COST = 4


class ParagraphRow(NamedTuple):
    id: int
    content: str
    source: str
    word_count: int
    created_at: str  # ISO 8601 in UTC, as the API's JSON writes it (`iso_created_at`)


@dataclass(frozen=True)
class Found:
    version: int
    changes: tuple[int, ...]  # of the words as asked (counts.WordStates)
    query: Query  # as the index searched it (an OR's unknown words left out)
    total: int
    rows: list[ParagraphRow]  # in the page's order


def _marks(n: int) -> str:
    return ",".join("?" * n)


def iso_created_at(stored: str) -> str:
    """A stored `created_at` as the API's JSON writes it (pydantic's form of an aware UTC datetime:
    `2026-11-23T21:15:00.120000Z`, no fraction when it is 0), without making a datetime: for a page of
    100 rows, parsing each into a datetime for pydantic to format again was ~0.1 ms of a ~0.7 ms search.

    SQLAlchemy's DateTime on SQLite stores naive UTC as "YYYY-MM-DD HH:MM:SS.ffffff" (db/models.py);
    anything else takes the long way, through a datetime."""
    if len(stored) == 26 and stored[10] == " " and stored[19] == ".":
        fraction = stored[19:]
        return f"{stored[:10]}T{stored[11:19]}{'' if fraction == '.000000' else fraction}Z"
    return pydantic_core.to_json(datetime.fromisoformat(stored).replace(tzinfo=UTC))[1:-1].decode()


class SyncFts:
    """search/sqlite.py's reads on one sqlite3 connection."""

    def __init__(self, connection: sqlite3.Connection, candidates: int) -> None:
        self.connection = connection
        self.candidates = candidates

    def ids(self, sql: str, params: dict[str, object]) -> list[int]:
        return [row[0] for row in self.connection.execute(sql, params)]

    def count(self, query: Query) -> int:
        row = self.connection.execute(
            sqlite_index.COUNT_SQL, {"match": sqlite_index.match_expression(query)}
        ).fetchone()
        return int(row[0])

    def newest(self, query: Query, limit: int, offset: int) -> list[int]:
        params = {"match": sqlite_index.match_expression(query), "limit": limit, "offset": offset}
        return self.ids(sqlite_index.NEWEST_SQL, params)

    def rank(self, query: Query, candidates: list[int], limit: int, offset: int) -> list[int]:
        if not candidates:
            return []
        match = sqlite_index.match_expression(query)
        params = {"match": match, "floor": min(candidates), "limit": limit, "offset": offset}
        return self.ids(sqlite_index.RELEVANT_FROM_SQL, params)

    def page(self, query: Query, limit: int, offset: int, matches: int) -> list[int]:
        if query.order == "relevance":
            if matches > self.candidates:
                return relevance.page_sync(self, query, limit, offset, self.candidates)
            params = {"match": sqlite_index.match_expression(query), "limit": limit, "offset": offset}
            return self.ids(sqlite_index.RELEVANT_SQL, params)
        return self.newest(query, limit, offset)


def postings(query: Query, frequencies: dict[str, int], counted: bool, limit: int, offset: int) -> int:
    """The work a search will do in FTS5, in postings read (its words' paragraph counts): the page
    walks offset + limit of them newest first; counting, or ranking by relevance, reads every
    posting of every word, an OR's at ~OR_COST times an AND's (bench/RESULTS.md)."""
    work = offset + limit
    if not counted or query.order == "relevance":
        work += (1 if query.operator == "and" else OR_COST) * sum(frequencies.get(w, 0) for w in query.words)
    return work


def find(
    connection: sqlite3.Connection,
    query: Query,
    limit: int,
    offset: int,
    candidates: int,
    max_postings: int | None = None,
) -> Found | None:
    """The search in the connection's snapshot; None, having read only the word counts, if it would
    read more than `max_postings`."""
    version, states = versions(connection, query.words)
    frequencies, changes = states.paragraphs, states.changes
    query, total = counted_from_frequencies(query, frequencies)
    too_much = (
        max_postings is not None and postings(query, frequencies, total is not None, limit, offset) > max_postings
    )
    if too_much and total != 0:
        return None
    fts = SyncFts(connection, candidates)
    if total is None:
        total = fts.count(query)
    ids = fts.page(query, limit, offset, total) if offset < total else []
    if not ids:
        return Found(version, changes, query, total, [])
    rows = {
        pid: ParagraphRow(pid, content, source, word_count, iso_created_at(created_at))
        for pid, content, source, word_count, created_at in connection.execute(
            ROWS_SQL.format(marks=_marks(len(ids))), ids
        )
    }
    return Found(version, changes, query, total, [rows[pid] for pid in ids if pid in rows])


def versions(connection: sqlite3.Connection, words: tuple[str, ...]) -> tuple[int, WordStates]:
    """The corpus version and the words' states, in the connection's snapshot."""
    row = connection.execute(VERSION_SQL).fetchone()
    rows = connection.execute(FREQUENCIES_SQL.format(marks=_marks(len(words))), words)
    return (int(row[0]) if row else 0), states_of(words, rows)


def _inline(reader: SqliteReader, work: Callable[[sqlite3.Connection], T | None], budget_s: float) -> T | None:
    """`work` on the event loop's own connection; None if it met a writer's lock (that connection never
    waits for one: the pool's do)."""
    try:
        return reader.run_inline(work, budget_s)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        return None


@contextmanager
def _within(budget_s: float) -> Iterator[None]:
    """A read the progress handler stopped at `budget_s` is QueryTooExpensive."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
            raise too_expensive(budget_s) from exc
        raise


async def read_versions(reader: SqliteReader, words: tuple[str, ...], budget_s: float) -> tuple[int, WordStates]:
    """`versions` in one snapshot: in the event loop (primary-key reads), or in the pool if the
    inline connection meets a writer's lock."""
    with _within(budget_s):
        return await reader.run_soon(functools.partial(versions, words=words), budget_s)


async def search(reader: SqliteReader, query: Query, limit: int, offset: int, budget_s: float) -> Found:
    """`find` in the event loop if it is cheap, else in one hop to the reader's pool;
    QueryTooExpensive after `budget_s`."""
    work = functools.partial(
        find, query=query, limit=limit, offset=offset, candidates=sqlite_index.INDEX.relevance_candidates
    )
    with _within(budget_s):
        found = _inline(reader, functools.partial(work, max_postings=INLINE_MAX_POSTINGS), budget_s)
        if found is None:  # too much work for the loop, or a writer's lock met
            found = await reader.run(work, budget_s)
    assert found is not None  # noqa: S101 - find without max_postings always finds
    return found
