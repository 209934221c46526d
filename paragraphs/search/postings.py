"""PostgreSQL: posting bitmaps, table `word_posting (word, block, bits bit(4096))` (docs/search.md,
"Counting unions and deep pages: posting bitmaps").

Bit `i` (leftmost = 0) of row (word, b) is set iff paragraph `b * 4096 + i` holds the word. They are
written in the paragraph's own transaction beside `paragraph_search`, one statement per write whose
rows arrive in (word, block) order (the order `word_count` is upserted in, word by word): concurrent
writers lock the rows in one order, so they wait for each other but never deadlock. Rows are never
deleted: a row whose bits all went to 0 stays (it costs one read in a union and no error in a count).

In Python a block's bits are an int, bit `i` (value `1 << i`) for paragraph `b * 4096 + i`: unions
are `|`, and `bits_bytes` turns it into the binary form of bit(4096) (leftmost bit = the first
byte's high bit).

Reads run in the search's snapshot, on its connection: an exact count of an AND or an OR (the union
or intersection per block, then `bit_count`), and a newest-first page (per-block counts from the top
block down, then the ids of the blocks that hold the page, and only those).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import compress
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from paragraphs.search.index import Document, Operator, Query

BLOCK_BITS = 4096
BLOCK_BYTES = BLOCK_BITS // 8
_FULL = (1 << BLOCK_BITS) - 1
# Each byte with its bits in reverse order: our ints are little-endian bit by bit, bit(n) is big-endian.
_REVERSED = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_ZERO_ONE = bytes.maketrans(b"01", b"\x00\x01")

Masks = dict[tuple[str, int], int]
"""(word, block) -> the bits to change, as an int (bit i = paragraph block * 4096 + i)."""

# `|` sets bits (a new paragraph), `& ~` clears them (a paragraph removed), `#` (xor) flips them: an
# update's words that came or went, each bit known to be 0 or 1 before (the index holds the old words).
Change = Literal["|", "& ~", "#"]

_UPSERTS = {
    change: text(
        "INSERT INTO word_posting (word, block, bits) "  # noqa: S608 - `change` is one of our operators
        "SELECT word, block, bits FROM unnest(CAST(:words AS text[]), CAST(:blocks AS integer[]), "
        "CAST(:bits AS bit(4096)[])) WITH ORDINALITY AS change (word, block, bits, n) ORDER BY n "
        f"ON CONFLICT (word, block) DO UPDATE SET bits = word_posting.bits {change} excluded.bits"
    )
    for change in ("|", "& ~", "#")
}


# The bitmaps rebuilt from the full-text index, which holds each paragraph's distinct words: each
# (paragraph, word) as its bit (`B'1'::bit(4096)`, the leftmost bit alone, shifted right to the
# paragraph's place in its block), OR-ed per (word, block). The migration's backfill; the tests' reference.
FROM_INDEX = (
    "SELECT word, CAST(paragraph_id / 4096 AS integer) AS block, "
    "bit_or(CAST(B'1' AS bit(4096)) >> CAST(paragraph_id % 4096 AS integer)) AS bits "
    "FROM paragraph_search, unnest(tsvector_to_array(vector)) AS word GROUP BY 1, 2"
)


def bits_bytes(mask: int) -> bytes:
    """A block's int as bit(4096)'s bytes: paragraph b * 4096 + i at bit i from the left."""
    return mask.to_bytes(BLOCK_BYTES, "little").translate(_REVERSED)


def masks_of(documents: Iterable[Document]) -> Masks:
    """Each (word, block) the documents touch, with the bits of the documents holding the word."""
    masks: Masks = {}
    for document in documents:
        block, bit = divmod(document.paragraph_id, BLOCK_BITS)
        for word in set(document.words):
            key = (word, block)
            masks[key] = masks.get(key, 0) | (1 << bit)
    return masks


def batch_masks(ids: Sequence[int], words: Mapping[str, int]) -> Masks:
    """The masks of a batch whose paragraph `ids[k]` is bit k of `words[word]` for each word it holds.

    Ids come sorted from the sequence and are nearly always one run; each run of consecutive ids is
    shifted into place whole, word by word (not paragraph by paragraph: ~3,500 words a batch of 1,000
    paragraphs, against ~300,000 (paragraph, word) pairs)."""
    masks: Masks = {}
    start = 0
    while start < len(ids):
        end = start + 1
        while end < len(ids) and ids[end] == ids[end - 1] + 1:
            end += 1
        run = (1 << (end - start)) - 1
        first_block, first_bit = divmod(ids[start], BLOCK_BITS)
        for word, bits in words.items():
            shifted = ((bits >> start) & run) << first_bit
            block = first_block
            while shifted:
                if part := shifted & _FULL:
                    key = (word, block)
                    masks[key] = masks.get(key, 0) | part
                shifted >>= BLOCK_BITS
                block += 1
        start = end
    return masks


async def write(connection: AsyncConnection, masks: Masks, change: Change) -> None:
    """Apply `masks` with `change`, one statement, rows in (word, block) order."""
    if not masks:
        return
    keys = sorted(masks)
    await connection.execute(
        _UPSERTS[change],
        {
            "words": [word for word, _ in keys],
            "blocks": [block for _, block in keys],
            "bits": [bits_bytes(masks[key]) for key in keys],
        },
    )


def _combined(operator: Operator) -> str:
    """Per block: the union (OR) or the intersection (AND: every word has a row there) of the words' bits."""
    if operator == "or":
        return "SELECT block, bit_or(bits) AS bits FROM word_posting WHERE word = ANY(:words) GROUP BY block"
    return (
        "SELECT block, bit_and(bits) AS bits FROM word_posting WHERE word = ANY(:words) "
        "GROUP BY block HAVING count(*) = :n"
    )


_OPERATORS: tuple[Operator, ...] = ("and", "or")
_COUNTS = {
    op: text(f"SELECT coalesce(sum(bit_count(bits)), 0) FROM ({_combined(op)}) AS c")  # noqa: S608 - our own SQL
    for op in _OPERATORS
}
# The blocks holding ranks offset..offset+limit from the newest: a running count from the top block
# down (`above`: matches in newer blocks); only those blocks' bits travel, as text (`0`/`1` per
# paragraph, leftmost = the block's first id).
_PAGES = {
    op: text(
        "SELECT block, CAST(bits AS text), above FROM (SELECT block, bits, bit_count(bits) AS held, "  # noqa: S608
        "sum(bit_count(bits)) OVER (ORDER BY block DESC) - bit_count(bits) AS above "
        f"FROM ({_combined(op)}) AS c) AS r WHERE above < :end AND above + held > :offset ORDER BY block DESC"
    )
    for op in _OPERATORS
}


def _params(query: Query) -> dict[str, object]:
    return {"words": list(query.words), "n": len(query.words)}


async def count(connection: AsyncConnection, query: Query) -> int:
    """The exact number of paragraphs matching `query`."""
    return int(await connection.scalar(_COUNTS[query.operator], _params(query)) or 0)


async def newest(connection: AsyncConnection, query: Query, limit: int, offset: int) -> list[int]:
    """The ids at ranks offset..offset+limit of the matches, highest id first."""
    rows = await connection.execute(_PAGES[query.operator], {**_params(query), "offset": offset, "end": offset + limit})
    ids: list[int] = []
    for block, bits, above in rows:
        # The block's ids whose character is `1`, highest first (compress in C: ~0.13 ms a block).
        top = (block + 1) * BLOCK_BITS - 1
        held = list(compress(range(top, top - BLOCK_BITS, -1), bits[::-1].encode().translate(_ZERO_ONE)))
        skip = max(offset - int(above), 0)
        ids.extend(held[skip : skip + limit - len(ids)])
    return ids
