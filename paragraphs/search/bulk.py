"""Index entries in bulk, for `paragraphs import` and `paragraphs seed` (paragraphs/corpus/bulk.py).

They are the very entries `SearchIndex.add` writes (tests/search/test_bulk.py compares them), sent
in fewer, cheaper statements:
- PostgreSQL: each vector in tsvector's binary form (search/tsvector.py), all of a batch in one
  binary COPY.
- SQLite: the words joined by spaces (`batches.fts_text`), as `SqliteIndex.add` does, in one executemany.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import asyncpg

# COPY ... (FORMAT binary): signature, flags, header extension length; each row: field count, then
# each field's length and bytes; -1 ends the data (PostgreSQL docs, "Binary Format" of COPY).
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_ROW_HEAD = struct.Struct(">hiqi")  # 2 fields; 8 bytes of paragraph_id; the vector's length


def copy_data(paragraph_ids: Sequence[int], vectors: Sequence[bytes]) -> bytes:
    """The binary COPY data of rows (paragraph_id, vector) of `paragraph_search`."""
    parts = [_COPY_HEADER]
    append = parts.append
    for paragraph_id, vector in zip(paragraph_ids, vectors, strict=True):
        append(_ROW_HEAD.pack(2, 8, paragraph_id, len(vector)))
        append(vector)
    append(_COPY_TRAILER)
    return b"".join(parts)


async def copy_vectors(connection: asyncpg.Connection, paragraph_ids: Sequence[int], vectors: Sequence[bytes]) -> None:
    """Add the vectors (from `tsvector.tsvector_binary`) of new paragraphs, in the connection's transaction."""
    await connection.copy_to_table(
        "paragraph_search",
        # A memoryview: asyncpg reads bytes as a file name (bytes are path-like), a buffer as the data.
        source=memoryview(copy_data(paragraph_ids, vectors)),
        columns=["paragraph_id", "vector"],
        format="binary",
    )


SQLITE_INSERT = "INSERT INTO paragraph_fts (rowid, words) VALUES (?, ?)"
