"""Asking providers in turn: dictionaryapi.dev first, the offline dictionary when it has no entry.

dictionaryapi.dev answers 404 for `is` and `be`, two of metaphorpsum's six most frequent words; the
fallback (PARAGRAPHS_DICTIONARY_FALLBACK, on by default) defines them from the offline dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence

from paragraphs.dictionary.providers.base import Provider
from paragraphs.dictionary.schemas import Entry


class ProviderChain:
    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = list(providers)
        self.name = "+".join(provider.name for provider in self._providers)

    async def lookup(self, word: str) -> Entry | None:
        """The first provider's entry; a failure of one provider is raised, not skipped."""
        for provider in self._providers:
            entry = await provider.lookup(word)
            if entry is not None:
                return entry
        return None
