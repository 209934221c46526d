"""Search: whole-word AND/OR queries on full-text indexes (PostgreSQL GIN, SQLite FTS5), /search."""
