"""Index entries in bulk, for `paragraphs import` and `paragraphs seed` (paragraphs/corpus/bulk.py).

They are the very entries `SearchIndex.add` writes (tests/search/test_bulk.py compares them), sent
in fewer, cheaper statements:
- PostgreSQL: each vector in tsvector's binary format, all of a batch in one binary COPY. Parsing
  the text form (`'word':1,5 ...`, what `PostgresIndex.add` sends) cost the server ~0.16 ms a
  paragraph of ~570 words, more than the GIN insert; the binary form is read without parsing.
- SQLite: the words joined by spaces, as `SqliteIndex.add` does, in one executemany.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import asyncpg

from paragraphs.search.postgres import MAX_POSITION, MAX_POSITIONS_PER_LEXEME

# COPY ... (FORMAT binary): signature, flags, header extension length; each row: field count, then
# each field's length and bytes; -1 ends the data (PostgreSQL docs, "Binary Format" of COPY).
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_ROW_HEAD = struct.Struct(">hiqi")  # 2 fields; 8 bytes of paragraph_id; the vector's length
_INT32 = struct.Struct(">i")
# One packer per number of positions: the count, then each position (weight D: the two high bits 0).
_POSITIONS = [struct.Struct(f">H{n}H").pack for n in range(MAX_POSITIONS_PER_LEXEME + 1)]

_lexemes: dict[str, bytes] = {}
_LEXEME_CACHE_SIZE = 200_000


def _new_lexeme(word: str) -> bytes:
    """The word as the binary format's NUL-terminated UTF-8 lexeme, kept (words repeat)."""
    if len(_lexemes) >= _LEXEME_CACHE_SIZE:
        _lexemes.clear()
    found = _lexemes[word] = word.encode() + b"\x00"
    return found


def tsvector_binary(words: Sequence[str]) -> bytes:
    """`words` as tsvector's binary form (tsvectorsend/tsvectorrecv): the vector `tsvector_literal`
    describes. Lexemes go in byte order (code point order is UTF-8's byte order), the order
    PostgreSQL keeps them in, so the server has nothing to sort."""
    positions: dict[str, list[int]] = {}
    for position, word in enumerate(words, start=1):
        found = positions.get(word)
        if found is None:
            positions[word] = [position]
        else:
            found.append(position)
    parts = [_INT32.pack(len(positions))]
    append, lexemes = parts.append, _lexemes
    for word in sorted(positions):
        found = positions[word]
        if len(found) > MAX_POSITIONS_PER_LEXEME or found[-1] > MAX_POSITION:
            # As tsvector_literal: positions past MAX_POSITION count as MAX_POSITION, kept once;
            # the first MAX_POSITIONS_PER_LEXEME kept.
            found = sorted({min(position, MAX_POSITION) for position in found})[:MAX_POSITIONS_PER_LEXEME]
        append(lexemes.get(word) or _new_lexeme(word))
        append(_POSITIONS[len(found)](len(found), *found))
    return b"".join(parts)


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
    """Add the vectors (from `tsvector_binary`) of new paragraphs, in the connection's transaction."""
    await connection.copy_to_table(
        "paragraph_search",
        # A memoryview: asyncpg reads bytes as a file name (bytes are path-like), a buffer as the data.
        source=memoryview(copy_data(paragraph_ids, vectors)),
        columns=["paragraph_id", "vector"],
        format="binary",
    )


def fts_text(words: Sequence[str]) -> str:
    """What `paragraph_fts` indexes for a paragraph (paragraphs/search/sqlite.py)."""
    return " ".join(words)


SQLITE_INSERT = "INSERT INTO paragraph_fts (rowid, words) VALUES (?, ?)"
