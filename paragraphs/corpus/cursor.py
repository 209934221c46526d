"""Paging cursors: opaque to clients; inside, the decimal id of the last paragraph of the page.

Plain digits rather than an encoding of them, so the OpenAPI can state the format exactly (`PATTERN`)
and a client generator or fuzzer knows which strings are cursors.

Only cursors this service could have handed out decode: ASCII digits (`str.isdigit` also accepts
Arabic-Indic and other digits, which `int()` reads), an id in 1..2^63-1 (a BIGINT; beyond it the
database would overflow). Anything else is a ValueError, which the route turns into a 422.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1
_DIGITS = r"[1-9][0-9]{0,18}"
PATTERN = f"^{_DIGITS}$"  # for the OpenAPI; ids above MAX_ID match it but are refused
_PAYLOAD = re.compile(_DIGITS, re.ASCII)
INVALID = "cursor is not one this service handed out; start again without it"


def encode(paragraph_id: int) -> str:
    return str(paragraph_id)


def decode(cursor: str) -> int:
    if _PAYLOAD.fullmatch(cursor) is None or int(cursor) > MAX_ID:
        raise ValueError(INVALID)
    return int(cursor)


def validate(cursor: str | None) -> str | None:
    """For the query parameter: the cursor unchanged, or a ValueError (FastAPI's 422 list shape)."""
    if cursor is not None:
        decode(cursor)
    return cursor
