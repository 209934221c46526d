"""word_count.changes: how many writes have touched a paragraph holding each word

Revision ID: 0007_word_changes
Revises: 0006_word_posting
Create Date: 2026-11-23

The search cache's per-word version (docs/search.md, "Cached results"). Existing rows start at 0:
no cached answer is stored under these versions yet. From now on a row whose count reaches 0 stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_word_changes"
down_revision = "0006_word_posting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("word_count", sa.Column("changes", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    # The rows of words no paragraph holds, kept for their `changes`, go with it (the old code deleted them).
    op.execute("DELETE FROM word_count WHERE count <= 0")
    with op.batch_alter_table("word_count") as batch:
        batch.drop_column("changes")
