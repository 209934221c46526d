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

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
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


async def apply(session: AsyncSession, change: Change) -> None:
    if not change:
        return
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    statement = insert(WordCount)
    statement = statement.on_conflict_do_update(
        index_elements=[WordCount.word],
        set_={
            "count": WordCount.count + statement.excluded.count,
            "paragraphs": WordCount.paragraphs + statement.excluded.paragraphs,
        },
    )
    words = sorted(change.occurrences.keys() | change.paragraphs.keys())
    # executemany, rows in word order: one compiled statement, locks taken in a global order.
    rows = [{"word": w, "count": change.occurrences[w], "paragraphs": change.paragraphs[w]} for w in words]
    await session.execute(statement, rows)
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


async def paragraphs_containing(connection: AsyncConnection, words: Sequence[str]) -> dict[str, int]:
    """How many paragraphs contain each of `words` (absent: none), by primary-key reads."""
    statement = select(WordCount.word, WordCount.paragraphs).where(WordCount.word.in_(list(words)))
    found = {word: int(n) for word, n in await connection.execute(statement)}
    return {word: found.get(word, 0) for word in words}
