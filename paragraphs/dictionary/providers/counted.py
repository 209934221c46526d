"""A provider whose look-ups are counted: `paragraphs_dictionary_provider_calls_total{provider, outcome}`.

Every provider the service builds is wrapped once (resources.py), so the chain's members and the
stop-gap are each counted under their own name, in the API and in the worker alike.
"""

from __future__ import annotations

from prometheus_client import Counter

from paragraphs.dictionary.providers.base import Provider
from paragraphs.dictionary.schemas import Entry
from paragraphs.http import UpstreamFailure

PROVIDER_CALLS = Counter(
    "paragraphs_dictionary_provider_calls_total",
    "Definition look-ups asked of a provider, by provider and outcome (found, not_found, failed).",
    ["provider", "outcome"],
)


class CountedProvider:
    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self.name = provider.name

    async def lookup(self, word: str) -> Entry | None:
        try:
            entry = await self._provider.lookup(word)
        except UpstreamFailure:
            PROVIDER_CALLS.labels(self.name, "failed").inc()
            raise
        PROVIDER_CALLS.labels(self.name, "not_found" if entry is None else "found").inc()
        return entry
