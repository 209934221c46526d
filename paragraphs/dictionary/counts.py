"""Word counts: table `word_count` (word, count, paragraphs, changes), changed in the paragraph's own
transaction.

`count` is how often the word occurs in all stored paragraphs (the top words of /dictionary);
`paragraphs` is in how many paragraphs it occurs (its document frequency: the `total_count` of a
one-word search, read from here instead of counted in the full-text index; docs/search.md);
`changes` is how many writes have touched a paragraph holding the word, before or after the write
(the search cache's per-word version: docs/search.md, "Cached results").

Every write adds or subtracts its words with one upsert whose rows are in word order: concurrent
writers lock rows in the same order, so they wait for each other but never deadlock, and an upsert
adds to the committed values, so nothing is lost. A row whose count reaches zero stays, with its
`changes` (a deleted row would start counting again from 0, and an old cache key could come back);
readers of the counts skip it. The top N is a read of the index on (count DESC, word).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, ColumnElement, Select, Text, any_, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.db.models import CorpusState, WordCount


@dataclass(frozen=True)
class Change:
    """What a write does to the counts: occurrences and paragraphs per word, zero entries dropped."""

    occurrences: Counter[str] = field(default_factory=Counter)
    paragraphs: Counter[str] = field(default_factory=Counter)
    # Every word of the paragraphs written, before and after: their `changes` go up by one even
    # where the counts do not move (an update that keeps a word changes the text its searches show).
    touched: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.occurrences or self.paragraphs or self.touched)


def delta(added: Iterable[Sequence[str]] = (), removed: Iterable[Sequence[str]] = ()) -> Change:
    """The change from adding and removing paragraphs, each given as its list of words."""
    occurrences: Counter[str] = Counter()
    paragraphs: Counter[str] = Counter()
    touched: set[str] = set()
    for words in added:
        occurrences.update(words)
        paragraphs.update(set(words))
        touched.update(words)
    for words in removed:
        occurrences.subtract(words)
        paragraphs.subtract(set(words))
        touched.update(words)
    return Change(
        occurrences=Counter({word: n for word, n in occurrences.items() if n}),
        paragraphs=Counter({word: n for word, n in paragraphs.items() if n}),
        touched=frozenset(touched),
    )


# One statement for all of a write's words: the rows arrive in the order given (WITH ORDINALITY,
# ORDER BY), so the upsert locks them in word order, as the one-row-at-a-time executemany it replaced
# did (a batch of 1,000 paragraphs touches ~3,500 words: one round trip instead of 3,500 executions).
# `changes` is read under the row's lock (ON CONFLICT DO UPDATE): concurrent writers each add one.
_UPSERT_POSTGRES = text(
    "INSERT INTO word_count (word, count, paragraphs, changes) "
    "SELECT word, count, paragraphs, 1 FROM unnest(CAST(:words AS text[]), CAST(:counts AS bigint[]), "
    "CAST(:paragraphs AS bigint[])) WITH ORDINALITY AS change (word, count, paragraphs, n) ORDER BY n "
    "ON CONFLICT (word) DO UPDATE SET count = word_count.count + excluded.count, "
    "paragraphs = word_count.paragraphs + excluded.paragraphs, changes = word_count.changes + 1"
)
# sqlite3's executemany runs the rows in C, in order, inside the one write transaction SQLite allows.
_UPSERT_SQLITE = (
    "INSERT INTO word_count (word, count, paragraphs, changes) VALUES (?, ?, ?, 1) "
    "ON CONFLICT (word) DO UPDATE SET count = count + excluded.count, paragraphs = paragraphs + excluded.paragraphs, "
    "changes = changes + 1"
)


async def apply(session: AsyncSession, change: Change) -> None:
    """Add `change` to the counts: rows upserted in word order (the lock order of every writer)."""
    if not change:
        return
    words = sorted(change.occurrences.keys() | change.paragraphs.keys() | change.touched)
    occurrences = [change.occurrences[w] for w in words]
    paragraphs = [change.paragraphs[w] for w in words]
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql(_UPSERT_SQLITE, list(zip(words, occurrences, paragraphs, strict=True)))
    else:
        await connection.execute(_UPSERT_POSTGRES, {"words": words, "counts": occurrences, "paragraphs": paragraphs})


# Rows of words no stored paragraph holds any more stay (their `changes` must not restart): left out.
_STORED = WordCount.count > 0


async def top_words(session: AsyncSession | AsyncConnection, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent words: count descending, then word ascending."""
    statement = (
        select(WordCount.word, WordCount.count)
        .where(_STORED)
        .order_by(WordCount.count.desc(), WordCount.word)
        .limit(limit)
    )
    return [(word, count) for word, count in await session.execute(statement)]


async def all_counts(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WordCount.word, WordCount.count).where(_STORED))).all())


async def all_paragraph_counts(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WordCount.word, WordCount.paragraphs).where(_STORED))).all())


async def distinct_words(session: AsyncSession) -> tuple[int, int]:
    """All occurrences of all words, and how many distinct words the stored paragraphs hold."""
    total, distinct = (await session.execute(select(func.sum(WordCount.count), func.count()).where(_STORED))).one()
    return int(total or 0), int(distinct or 0)


# PostgreSQL: `= ANY(array)`, one SQL text for any number of words, prepared once per connection.
_FREQUENCIES_BY_ANY = select(WordCount.word, WordCount.paragraphs, WordCount.changes).where(
    WordCount.word == any_(bindparam("words", type_=ARRAY(Text)))
)
_FREQUENCIES_BY_IN = select(WordCount.word, WordCount.paragraphs, WordCount.changes).where(
    WordCount.word.in_(bindparam("words", expanding=True))
)


@dataclass(frozen=True)
class WordStates:
    """Of some words: in how many paragraphs each occurs, and how many writes have changed those
    paragraphs (both 0 for a word never stored)."""

    paragraphs: dict[str, int]
    changes: tuple[int, ...]  # in the order the words were asked in


def states_of(words: Sequence[str], rows: Iterable[tuple[str, int, int]]) -> WordStates:
    found = {word: (int(n), int(changes)) for word, n, changes in rows}
    return WordStates(
        paragraphs={word: found.get(word, (0, 0))[0] for word in words},
        changes=tuple(found.get(word, (0, 0))[1] for word in words),
    )


def _with_version(matches: ColumnElement[bool]) -> Select[int, str, int, int]:
    """The corpus version beside each matching word's row (the row `corpus_state.id = 1` always exists)."""
    return (
        select(CorpusState.version, WordCount.word, WordCount.paragraphs, WordCount.changes)
        .select_from(CorpusState)
        .outerjoin(WordCount, matches)
        .where(CorpusState.id == 1)
    )


_VERSION_AND_FREQUENCIES = {
    "postgresql": _with_version(WordCount.word == any_(bindparam("words", type_=ARRAY(Text)))),
    "sqlite": _with_version(WordCount.word.in_(bindparam("words", expanding=True))),
}


async def version_and_word_states(connection: AsyncConnection, words: Sequence[str]) -> tuple[int, WordStates]:
    """The corpus version and `word_states`, in one statement: one snapshot, one round trip (a search
    miss reads both before anything else)."""
    rows = (await connection.execute(_VERSION_AND_FREQUENCIES[connection.dialect.name], {"words": list(words)})).all()
    version = int(rows[0][0]) if rows else 0
    return version, states_of(words, [(word, n, changes) for _, word, n, changes in rows if word is not None])


async def word_states(connection: AsyncConnection, words: Sequence[str]) -> WordStates:
    """Of each of `words`, by primary-key reads."""
    statement = _FREQUENCIES_BY_ANY if connection.dialect.name == "postgresql" else _FREQUENCIES_BY_IN
    rows = await connection.execute(statement, {"words": list(words)})
    return states_of(words, [(word, n, changes) for word, n, changes in rows])
