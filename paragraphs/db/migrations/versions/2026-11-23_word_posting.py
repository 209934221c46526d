"""word_posting: a posting bitmap per (word, block of 4096 paragraph ids), PostgreSQL only

Revision ID: 0006_word_posting
Revises: 0005_word_paragraphs
Create Date: 2026-11-23

Bit `i` (leftmost = 0) of (word, b) is set iff paragraph `b * 4096 + i` holds the word
(paragraphs/search/postings.py, docs/search.md). SQLite needs none: FTS5 counts unions and skips to
deep pages fast enough there. The backfill reads the full-text index, which holds each paragraph's
distinct words: no paragraph is tokenized again.
"""

from __future__ import annotations

from alembic import op

from paragraphs.search import postings

revision = "0006_word_posting"
down_revision = "0005_word_paragraphs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        "CREATE TABLE word_posting (word TEXT NOT NULL, block INTEGER NOT NULL, bits BIT(4096) NOT NULL,"
        " CONSTRAINT pk_word_posting PRIMARY KEY (word, block))"
    )
    op.execute(f"INSERT INTO word_posting (word, block, bits) {postings.FROM_INDEX}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TABLE word_posting")
