"""One protocol for every definition provider."""

from __future__ import annotations

from typing import Protocol

from paragraphs.dictionary.schemas import Entry


class Provider(Protocol):
    name: str

    async def lookup(self, word: str) -> Entry | None:
        """The entry, or None when the provider has no such word.

        Raises `paragraphs.http.UpstreamFailure` when it cannot tell (down, slow, garbage): a failure
        is never an answer, so it is never remembered as "not found".
        """
        ...
