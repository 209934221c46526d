"""Alembic environment: always run with a connection handed over by `paragraphs.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from paragraphs.db.models import UNMODELLED_TABLES, Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations with `paragraphs migrate`, which hands Alembic a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # Full-text tables (and FTS5 shadow tables) are hand-written DDL: keep autogenerate off them.
    include_name=lambda name, type_, _parent: (
        not (type_ == "table" and name is not None and name.startswith(UNMODELLED_TABLES))
    ),
)
with context.begin_transaction():
    context.run_migrations()
