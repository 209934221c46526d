"""The warming job defines the top words; a run that finds the same words warm already stops early."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from paragraphs.corpus.service import create_paragraph
from paragraphs.db.models import Source
from paragraphs.dictionary import tasks
from paragraphs.dictionary.service import definition_key
from paragraphs.resources import Resources, open_resources
from paragraphs.settings import Settings


def definition_lookups() -> float:
    """Definitions looked up in the cache (each run that works reads every top word's)."""
    return sum(
        REGISTRY.get_sample_value("paragraphs_cache_requests_total", {"feature": "definition", "result": result}) or 0
        for result in ("hit", "miss")
    )


async def store(resources: Resources, content: str) -> None:
    async with resources.db.write() as session:
        await create_paragraph(session, content, Source.USER)


async def test_runs_that_find_the_same_top_words_warm_stop_early(settings: Settings) -> None:
    async with open_resources(settings) as resources:
        await store(resources, "river river sea")
        before = definition_lookups()
        await tasks.warm_top_words(resources)
        assert definition_lookups() - before == 2  # river, sea: looked up, fetched, cached
        assert await resources.cache.get(definition_key("river")) is not None

        before = definition_lookups()
        await tasks.warm_top_words(resources)
        await store(resources, "sea river")  # the same words: still warm
        await tasks.warm_top_words(resources)
        assert definition_lookups() == before

        await store(resources, "lake")  # a new top word: the run works again
        await tasks.warm_top_words(resources)
        assert definition_lookups() - before == 3
        assert await resources.cache.get(definition_key("lake")) is not None

        words, _at = resources.definitions.warmed
        resources.definitions.warmed = (words, time.monotonic() - tasks.WARM_FRESH_S - 1)  # a minute later
        before = definition_lookups()
        await tasks.warm_top_words(resources)
        assert definition_lookups() - before == 3  # looked at again (found in the cache)
