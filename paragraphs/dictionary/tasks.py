"""Background job: bring the definitions of the current top words into the cache."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog

from paragraphs.dictionary.top import top_words
from paragraphs.jobs import job

if TYPE_CHECKING:
    from paragraphs.resources import Resources

log = structlog.get_logger(__name__)

WARM_TOP_WORDS = "dictionary.warm_top_words"
# The largest `limit` of /dictionary: warming that many keeps every page of it off the provider.
WARM_LIMIT = 100
# A job may wait longer than a request: nobody is waiting on it.
WARM_DEADLINE_S = 60.0
# After a run that found every top word defined, a run that finds the same words within this time
# stops there: writes rarely change the top 100, and the definitions cached then are kept for hours
# (found a day, not found an hour). Under a stream of writes the job runs back to back, and
# looking up 100 definitions each time cost more than the writes it followed (bench/RESULTS.md).
WARM_FRESH_S = 60.0


@job(WARM_TOP_WORDS)
async def warm_top_words(resources: Resources, limit: int = WARM_LIMIT) -> None:
    """Idempotent: words already known are read from the cache or table, not asked again."""
    top = [word for word, _ in await top_words(resources.db, limit)]
    store = resources.definitions
    words, warmed_at = store.warmed
    if words.issuperset(top) and time.monotonic() - warmed_at < WARM_FRESH_S:
        log.debug("top words still warm", words=len(top))
        return
    known = await store.define(top, WARM_DEADLINE_S)
    missing = [word for word in top if word not in known]
    log.info("warmed top words", words=len(top), missing=len(missing))
    if missing:
        raise RuntimeError(f"{len(missing)} of the top {len(top)} words could not be defined yet: {missing[:5]}")
    store.warmed = (frozenset(top), time.monotonic())
