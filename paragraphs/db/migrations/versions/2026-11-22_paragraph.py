"""paragraph table

Revision ID: 0001_paragraph
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paragraphs.db.models import BigId, UTCDateTime

revision = "0001_paragraph"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paragraph",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("source IN ('metaphorpsum', 'offline', 'user', 'import')", name="source"),
        sa.CheckConstraint("word_count > 0", name="word_count_positive"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("paragraph")
