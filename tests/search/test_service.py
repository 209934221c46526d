"""The search service's answer is SearchResponse's JSON, byte for byte, however the page was read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from paragraphs.cache import MemoryCache
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchHit, SearchRequest, SearchResponse


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


# Text as a paragraph may hold it: any character but NUL and lone surrogates (validated away).
_CONTENT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)


class TestResponseJson:
    """`response_json` (orjson) writes what pydantic writes for SearchResponse, byte for byte."""

    @given(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.integers(1, 2**63 - 1),
                    "content": _CONTENT,
                    "source": st.sampled_from(["metaphorpsum", "offline", "user", "import"]),
                    "word_count": st.integers(1, 100_000),
                    "created_at": st.datetimes(timezones=st.just(UTC)),
                },
                optional={"highlights": st.lists(_CONTENT, max_size=3)},
            ),
            max_size=4,
        ),
        st.integers(0, 2**40),
    )
    @example(
        [
            {
                "id": 1,
                "content": 'a "q" \\ \n\t\u2028\u2029 é 日 😀 \x1f',
                "source": "user",
                "word_count": 1,
                "created_at": datetime(2026, 11, 23, 21, 15, tzinfo=UTC),
            }
        ],
        1,
    )
    def test_the_same_bytes_as_pydantic(self, hits: list[dict[str, Any]], total: int) -> None:
        hits = [{field: hit[field] for field in SearchHit.model_fields if field in hit} for hit in hits]  # _hit's order
        model = SearchResponse(paragraphs=[SearchHit(**hit) for hit in hits], total_count=total)
        assert search_service.response_json(hits, total) == model.model_dump_json(exclude_none=True).encode()
