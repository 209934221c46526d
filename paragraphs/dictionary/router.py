"""Route: GET /dictionary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from paragraphs.deps import ResourcesDep
from paragraphs.dictionary import service as dictionary_service
from paragraphs.dictionary.schemas import DictionaryResponse

router = APIRouter(tags=["dictionary"])


@router.get("/dictionary", response_model=DictionaryResponse)
async def get_dictionary(
    resources: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many of the most frequent words.")] = 10,
) -> Response:
    """The most frequent words of all stored paragraphs with their definitions, count desc then word asc."""
    body = await dictionary_service.dictionary_json(
        resources.db, resources.definitions, resources.corpus_version, limit, resources.settings.dictionary_deadline_s
    )
    return Response(body, media_type="application/json")
