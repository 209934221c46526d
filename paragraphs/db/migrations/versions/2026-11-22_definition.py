"""definition: durable store of dictionary answers (found, or not found), with expiry

Revision ID: 0004_definition
Revises: 0003_word_count
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paragraphs.db.models import UTCDateTime

revision = "0004_definition"
down_revision = "0003_word_count"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition",
        sa.Column("word", sa.Text(), primary_key=True),
        sa.Column("entry", sa.JSON(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("definition")
