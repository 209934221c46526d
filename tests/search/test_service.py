"""The search service's answer is SearchResponse's JSON, byte for byte, however the page was read."""

from __future__ import annotations

import pytest

from paragraphs.cache import MemoryCache
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest, SearchResponse


class TestSearchJson:
    @pytest.mark.parametrize("highlight", [False, True])
    async def test_the_body_is_the_response_models_json(self, db: Database, highlight: bool) -> None:
        async with db.write() as session:
            await corpus_service.create_paragraphs(
                session,
                [
                    corpus_service.Tokenized(content, content.split())
                    for content in ('fig "quoted" café', "fig line\u2028separator", "no match here")
                ],
                Source.IMPORT,
            )
        request = SearchRequest(words=["fig"], operator="and", highlight=highlight)
        body, hit = await search_service.search_json(db, MemoryCache(), request)
        assert not hit
        model = SearchResponse.model_validate_json(body)
        assert model.total_count == 2
        assert body == model.model_dump_json(exclude_none=True).encode()
        assert all((paragraph.highlights is not None) == highlight for paragraph in model.paragraphs)
