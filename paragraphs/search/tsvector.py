"""PostgreSQL's tsvector in its binary form, built in Python for bulk intake (paragraphs/search/bulk.py
sends it in a binary COPY). Imports nothing of the database: the intake's preparer processes build
vectors (paragraphs/corpus/preparers.py).

The binary form (tsvectorsend/tsvectorrecv): the number of lexemes, then each lexeme as NUL-terminated
UTF-8 with its number of positions and the positions (uint16, big-endian; weight D: the two high
bits 0). Parsing the text form (`'word':1,5 ...`, what `PostgresIndex.add` sends) cost the server
~0.16 ms a paragraph of ~570 words, more than the GIN insert; the binary form is read without parsing.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

# tsvector limits: positions go up to 16383, and at most 256 are kept per lexeme.
MAX_POSITION = 16_383
MAX_POSITIONS_PER_LEXEME = 256

_INT32 = struct.Struct(">i")
# One packer per number of positions: the count, then each position.
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
    """`words` as tsvector's binary form: the vector `postgres.tsvector_literal` describes. Lexemes go
    in byte order (code point order is UTF-8's byte order), the order PostgreSQL keeps them in, so the
    server has nothing to sort."""
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
