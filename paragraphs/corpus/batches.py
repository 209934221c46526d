"""A batch of paragraphs prepared for the bulk write path (paragraphs/corpus/bulk.py): CPU only.

Each paragraph's words (the tokenizer), its index entry in the engine's bulk form, and the batch's
word-count change aggregated once. Nothing here touches or imports a database: the intake prepares
batches in child processes (paragraphs/corpus/preparers.py) that import this module, the tokenizer
and search/tsvector.py alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from paragraphs import text
from paragraphs.corpus.limits import MAX_CONTENT_CHARS
from paragraphs.search.tsvector import tsvector_binary

Engine = Literal["sqlite", "postgresql"]  # db.engine.Dialect, named here without importing the database layer


def storable_words(content: str) -> list[str] | None:
    """The paragraph's words, or None when the API would refuse it (too long, no word, a NUL)."""
    if not 0 < len(content) <= MAX_CONTENT_CHARS or "\x00" in content:
        return None
    return text.words(content) or None


@dataclass
class PreparedBatch:
    contents: list[str] = field(default_factory=list)
    word_counts: list[int] = field(default_factory=list)
    vectors: list[bytes] = field(default_factory=list)  # PostgreSQL's index entries (binary tsvectors), else empty
    postings: dict[str, int] = field(default_factory=dict)  # PostgreSQL: per word, bit k set iff paragraph k holds it
    fts_texts: list[str] = field(default_factory=list)  # SQLite's (the words joined by spaces), else empty
    # The batch's word-count change, as `counts.delta(added=...)` aggregates it (additions only).
    occurrences: Counter[str] = field(default_factory=Counter)
    paragraphs: Counter[str] = field(default_factory=Counter)
    skipped: int = 0  # contents left out: the API would refuse them

    def __len__(self) -> int:
        return len(self.contents)


class BatchBuilder:
    """A batch prepared one paragraph at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.batch = PreparedBatch()

    def add(self, content: str, words: list[str]) -> None:
        if not words:
            raise ValueError("a stored paragraph must hold a word")
        batch = self.batch
        batch.contents.append(content)
        batch.word_counts.append(len(words))
        distinct = set(words)
        batch.occurrences.update(words)
        batch.paragraphs.update(distinct)
        if self._engine == "postgresql":
            batch.vectors.append(tsvector_binary(words))
            # The posting bits by position in the batch: ids are known only when the batch is stored.
            bit, postings = 1 << (len(batch.contents) - 1), batch.postings
            for word in distinct:
                postings[word] = postings.get(word, 0) | bit
        else:
            batch.fts_texts.append(fts_text(words))


def prepare(contents: Iterable[str], engine: Engine) -> PreparedBatch:
    """The storable ones of `contents`, prepared; the others counted in `skipped`."""
    builder = BatchBuilder(engine)
    for content in contents:
        words = storable_words(content)
        if words is None:
            builder.batch.skipped += 1
        else:
            builder.add(content, words)
    return builder.batch


def fts_text(words: Iterable[str]) -> str:
    """What `paragraph_fts` indexes for a paragraph (paragraphs/search/sqlite.py)."""
    return " ".join(words)
