"""Word counts: table `word_count` (word, count, paragraphs), changed in the paragraph's own transaction.

`count` is how often the word occurs in all stored paragraphs (the top words of /dictionary);
`paragraphs` is in how many paragraphs it occurs (its document frequency: the `total_count` of a
one-word search, read from here instead of counted in the full-text index; docs/search.md).

Every write adds or subtracts its words with one upsert whose rows are in word order: concurrent
writers lock rows in the same order, so they wait for each other but never deadlock, and an upsert
adds to the committed values, so nothing is lost. Rows whose count reaches zero are deleted (their
`paragraphs` is zero too). The top N is a read of the index on (count DESC, word).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, Text, any_, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from paragraphs.db.models import WordCount

# Bound for the IN list of the delete of emptied rows.
ROWS_PER_STATEMENT = 5000


@dataclass(frozen=True)
class Change:
    """What a write does to the counts: occurrences and paragraphs per word, zero entries dropped."""

    occurrences: Counter[str] = field(default_factory=Counter)
    paragraphs: Counter[str] = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.occurrences or self.paragraphs)


def delta(added: Iterable[Sequence[str]] = (), removed: Iterable[Sequence[str]] = ()) -> Change:
    """The change from adding and removing paragraphs, each given as its list of words."""
    occurrences: Counter[str] = Counter()
    paragraphs: Counter[str] = Counter()
    for words in added:
        occurrences.update(words)
        paragraphs.update(set(words))
    for words in removed:
        occurrences.subtract(words)
        paragraphs.subtract(set(words))
    return Change(
        occurrences=Counter({word: n for word, n in occurrences.items() if n}),
        paragraphs=Counter({word: n for word, n in paragraphs.items() if n}),
    )


# One statement for all of a write's words: the rows arrive in the order given (WITH ORDINALITY,
# ORDER BY), so the upsert locks them in word order, as the one-row-at-a-time executemany it replaced
# did (a batch of 1,000 paragraphs touches ~3,500 words: one round trip instead of 3,500 executions).
_UPSERT_POSTGRES = text(
    "INSERT INTO word_count (word, count, paragraphs) "
    "SELECT word, count, paragraphs FROM unnest(CAST(:words AS text[]), CAST(:counts AS bigint[]), "
    "CAST(:paragraphs AS bigint[])) WITH ORDINALITY AS change (word, count, paragraphs, n) ORDER BY n "
    "ON CONFLICT (word) DO UPDATE SET count = word_count.count + excluded.count, "
    "paragraphs = word_count.paragraphs + excluded.paragraphs"
)
# sqlite3's executemany runs the rows in C, in order, inside the one write transaction SQLite allows.
_UPSERT_SQLITE = (
    "INSERT INTO word_count (word, count, paragraphs) VALUES (?, ?, ?) "
    "ON CONFLICT (word) DO UPDATE SET count = count + excluded.count, paragraphs = paragraphs + excluded.paragraphs"
)


async def apply(session: AsyncSession, change: Change) -> None:
    """Add `change` to the counts: rows upserted in word order (the lock order of every writer)."""
    if not change:
        return
    words = sorted(change.occurrences.keys() | change.paragraphs.keys())
    occurrences = [change.occurrences[w] for w in words]
    paragraphs = [change.paragraphs[w] for w in words]
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql(_UPSERT_SQLITE, list(zip(words, occurrences, paragraphs, strict=True)))
    else:
        await connection.execute(_UPSERT_POSTGRES, {"words": words, "counts": occurrences, "paragraphs": paragraphs})
    emptied = sorted(word for word, n in change.occurrences.items() if n < 0)
    for start in range(0, len(emptied), ROWS_PER_STATEMENT):
        chunk = emptied[start : start + ROWS_PER_STATEMENT]
        await session.execute(delete(WordCount).where(WordCount.word.in_(chunk), WordCount.count <= 0))


async def top_words(session: AsyncSession, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent words: count descending, then word ascending."""
    statement = select(WordCount.word, WordCount.count).order_by(WordCount.count.desc(), WordCount.word).limit(limit)
    return [(word, count) for word, count in await session.execute(statement)]


async def all_counts(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WordCount.word, WordCount.count))).all())


async def all_paragraph_counts(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WordCount.word, WordCount.paragraphs))).all())


# PostgreSQL: `= ANY(array)`, one SQL text for any number of words, prepared once per connection.
_FREQUENCIES_BY_ANY = select(WordCount.word, WordCount.paragraphs).where(
    WordCount.word == any_(bindparam("words", type_=ARRAY(Text)))
)
_FREQUENCIES_BY_IN = select(WordCount.word, WordCount.paragraphs).where(
    WordCount.word.in_(bindparam("words", expanding=True))
)


async def paragraphs_containing(connection: AsyncConnection, words: Sequence[str]) -> dict[str, int]:
    """How many paragraphs contain each of `words` (absent: none), by primary-key reads."""
    statement = _FREQUENCIES_BY_ANY if connection.dialect.name == "postgresql" else _FREQUENCIES_BY_IN
    found = {word: int(n) for word, n in await connection.execute(statement, {"words": list(words)})}
    return {word: found.get(word, 0) for word in words}
