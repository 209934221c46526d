"""word_count: occurrences of every word in the corpus, for the top words of /dictionary

Revision ID: 0003_word_count
Revises: 0002_search
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import op

from paragraphs import text

revision = "0003_word_count"
down_revision = "0002_search"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000


def _backfill() -> None:
    """Count the words of paragraphs stored before this migration."""
    connection = op.get_bind()
    totals: Counter[str] = Counter()
    last_id = 0
    while rows := connection.execute(
        sa.text("SELECT id, content FROM paragraph WHERE id > :last ORDER BY id LIMIT :n"),
        {"last": last_id, "n": BACKFILL_BATCH},
    ).all():
        for row in rows:
            totals.update(text.words(row.content))
        last_id = rows[-1].id
    if totals:
        connection.execute(
            sa.text("INSERT INTO word_count (word, count) VALUES (:word, :count)"),
            [{"word": word, "count": count} for word, count in sorted(totals.items())],
        )


def upgrade() -> None:
    op.create_table(
        "word_count",
        sa.Column("word", sa.Text(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_word_count_top", "word_count", [sa.text("count DESC"), "word"])
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_word_count_top", table_name="word_count")
    op.drop_table("word_count")
