"""Word counts: table `word_count` (word, count), changed in the paragraph's own transaction.

Every write adds or subtracts its words' occurrences with one upsert whose rows are in word order:
concurrent writers lock rows in the same order, so they wait for each other but never deadlock, and
an upsert adds to the committed count, so no count is lost. Rows that reach zero are deleted. The top
N is a read of the index on (count DESC, word).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs.db.models import WordCount

# Bound for the IN list of the delete of emptied rows.
ROWS_PER_STATEMENT = 5000


def delta(added: Iterable[str] = (), removed: Iterable[str] = ()) -> Counter[str]:
    """Occurrences to add (positive) or take away (negative), zero entries dropped."""
    change = Counter(added)
    change.subtract(Counter(removed))
    return Counter({word: n for word, n in change.items() if n})


async def apply(session: AsyncSession, change: Counter[str]) -> None:
    if not change:
        return
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    statement = insert(WordCount)
    statement = statement.on_conflict_do_update(
        index_elements=[WordCount.word], set_={"count": WordCount.count + statement.excluded.count}
    )
    # executemany, rows in word order: one compiled statement, locks taken in a global order.
    await session.execute(statement, [{"word": word, "count": change[word]} for word in sorted(change)])
    emptied = sorted(word for word, n in change.items() if n < 0)
    for start in range(0, len(emptied), ROWS_PER_STATEMENT):
        chunk = emptied[start : start + ROWS_PER_STATEMENT]
        await session.execute(delete(WordCount).where(WordCount.word.in_(chunk), WordCount.count <= 0))


async def top_words(session: AsyncSession, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent words: count descending, then word ascending."""
    statement = select(WordCount.word, WordCount.count).order_by(WordCount.count.desc(), WordCount.word).limit(limit)
    return [(word, count) for word, count in await session.execute(statement)]


async def all_counts(session: AsyncSession) -> dict[str, int]:
    return dict((await session.execute(select(WordCount.word, WordCount.count))).all())
