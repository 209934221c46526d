"""full-text search: paragraph_search (PostgreSQL) or paragraph_fts (SQLite), corpus_state

Revision ID: 0002_search
Revises: 0001_paragraph
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paragraphs import text
from paragraphs.search import postgres as pg_index
from paragraphs.search import sqlite as sqlite_index

revision = "0002_search"
down_revision = "0001_paragraph"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000


def _backfill() -> None:
    """Index paragraphs stored before this migration, with the tokenizer of this code."""
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    last_id = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, content FROM paragraph WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last_id, "n": BACKFILL_BATCH},
        ).all()
        if not rows:
            return
        if sqlite:
            params = [{"pid": row.id, "words": " ".join(text.words(row.content))} for row in rows]
            connection.execute(sa.text("INSERT INTO paragraph_fts (rowid, words) VALUES (:pid, :words)"), params)
        else:
            params = [{"pid": row.id, "vector": pg_index.tsvector_literal(text.words(row.content))} for row in rows]
            connection.execute(
                sa.text("INSERT INTO paragraph_search (paragraph_id, vector) VALUES (:pid, CAST(:vector AS tsvector))"),
                params,
            )
        last_id = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "corpus_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    op.execute("INSERT INTO corpus_state (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sqlite_index.CREATE_TABLE)
    else:
        op.execute(
            "CREATE TABLE paragraph_search ("
            " paragraph_id BIGINT PRIMARY KEY REFERENCES paragraph (id) ON DELETE CASCADE,"
            " vector TSVECTOR NOT NULL)"
        )
        # lz4 (PostgreSQL 14+) decompresses several times faster than the default pglz: a search that
        # tests vectors one by one got 2-5x faster at 100k paragraphs (docs/search.md).
        op.execute(
            "DO $$ BEGIN ALTER TABLE paragraph_search ALTER COLUMN vector SET COMPRESSION lz4; "
            "EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; END $$"
        )
        op.execute("CREATE INDEX ix_paragraph_search_vector ON paragraph_search USING gin (vector)")
    _backfill()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE paragraph_fts")
    else:
        op.execute("DROP TABLE paragraph_search")
    op.drop_table("corpus_state")
