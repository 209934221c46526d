"""Background job: bring the definitions of the current top words into the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from paragraphs.dictionary import counts
from paragraphs.jobs import job

if TYPE_CHECKING:
    from paragraphs.resources import Resources

log = structlog.get_logger(__name__)

WARM_TOP_WORDS = "dictionary.warm_top_words"
# The largest `limit` of /dictionary: warming that many keeps every page of it off the provider.
WARM_LIMIT = 100
# A job may wait longer than a request: nobody is waiting on it.
WARM_DEADLINE_S = 60.0


@job(WARM_TOP_WORDS)
async def warm_top_words(resources: Resources, limit: int = WARM_LIMIT) -> None:
    """Idempotent: words already known are read from the cache or table, not asked again."""
    async with resources.db.read() as session:
        top = [word for word, _ in await counts.top_words(session, limit)]
    known = await resources.definitions.define(top, WARM_DEADLINE_S)
    missing = [word for word in top if word not in known]
    log.info("warmed top words", words=len(top), missing=len(missing))
    if missing:
        raise RuntimeError(f"{len(missing)} of the top {len(top)} words could not be defined yet: {missing[:5]}")
