"""ORM models, all in one place: Alembic imports them all, and later tables cross features."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid, which FTS5 keys on.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way out on both engines (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - DateTime always yields datetimes
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(StrEnum):
    METAPHORPSUM = "metaphorpsum"
    OFFLINE = "offline"
    USER = "user"
    IMPORT = "import"


class Paragraph(Base):
    __tablename__ = "paragraph"
    __table_args__ = (
        CheckConstraint("source IN ('metaphorpsum', 'offline', 'user', 'import')", name="source"),
        CheckConstraint("word_count > 0", name="word_count_positive"),
        # AUTOINCREMENT: a deleted paragraph's id is never handed out again.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    word_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CorpusState(Base):
    """One row: `version` grows with every committed write to the corpus (cache keys include it)."""

    __tablename__ = "corpus_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class WordCount(Base):
    """How often each word occurs in all stored paragraphs (by `paragraphs.text`)."""

    __tablename__ = "word_count"
    # No CHECK (count >= 0): a subtraction travels as an upsert row with a negative count, which a
    # CHECK would reject before the conflict turns it into an update. Rows reaching 0 stay (`changes`).
    __table_args__ = (Index("ix_word_count_top", text("count DESC"), "word"),)

    word: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    # Paragraphs containing the word (document frequency): a one-word search's total_count.
    paragraphs: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Writes that touched a paragraph holding the word: the search cache's per-word version.
    changes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class Definition(Base):
    """What a provider said of a word, kept durably so a cache flush does not re-ask a rate-limited API.

    `entry` is the found entry (`paragraphs.dictionary.schemas.Entry` as JSON), or NULL for "no provider
    has this word", which expires sooner. Failures are never stored.
    """

    __tablename__ = "definition"

    word: Mapped[str] = mapped_column(Text, primary_key=True)
    entry: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Full-text structures written by hand in migrations, not modelled here (see paragraphs/search/):
# PostgreSQL `paragraph_search` (tsvector + GIN) and SQLite `paragraph_fts` (FTS5 and its shadow tables).
UNMODELLED_TABLES = ("paragraph_search", "paragraph_fts")
