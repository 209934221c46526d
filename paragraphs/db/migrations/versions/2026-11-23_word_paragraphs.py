"""word_count.paragraphs: in how many paragraphs each word occurs (document frequency)

Revision ID: 0005_word_paragraphs
Revises: 0004_definition
Create Date: 2026-11-23

The backfill reads the full-text index, which holds each paragraph's distinct words: PostgreSQL's
`ts_stat` (its `ndoc`) over the vectors, SQLite's `fts5vocab` (its `doc`) over the FTS5 index. No
paragraph is tokenized again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_word_paragraphs"
down_revision = "0004_definition"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("word_count", sa.Column("paragraphs", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE temp.paragraph_fts_vocab USING fts5vocab(main, paragraph_fts, row)")
        op.execute(
            "UPDATE word_count SET paragraphs = "
            "coalesce((SELECT doc FROM temp.paragraph_fts_vocab WHERE term = word_count.word), 0)"
        )
        op.execute("DROP TABLE temp.paragraph_fts_vocab")
    else:
        op.execute(
            "UPDATE word_count SET paragraphs = stat.ndoc "
            "FROM ts_stat('SELECT vector FROM paragraph_search') AS stat WHERE stat.word = word_count.word"
        )


def downgrade() -> None:
    with op.batch_alter_table("word_count") as batch:
        batch.drop_column("paragraphs")
