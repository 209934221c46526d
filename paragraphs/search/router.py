"""Routes: POST /search and GET /search (the same search, as a link)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from paragraphs import errors
from paragraphs.deps import ResourcesDep, SearchLimit
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchQuery, SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


TOO_EXPENSIVE = errors.error_responses(errors.QueryTooExpensive)
LIMITED = errors.error_responses(errors.RateLimited)


async def _respond(request: SearchRequest, resources: ResourcesDep, response: Response) -> Response:
    # The service's JSON goes out as it is (a cache hit is the stored bytes); `response_model`
    # documents its shape. A returned Response does not get the headers dependencies set on
    # `response` (RateLimit-*): they are passed on.
    body, hit = await search_service.search_json(
        resources.db, resources.cache, request, resources.settings.search_timeout_s, resources.corpus_version
    )
    headers = {**response.headers, "X-Cache": "HIT" if hit else "MISS"}
    return Response(body, media_type="application/json", headers=headers)


@router.post(
    "/search",
    response_model=SearchResponse,
    response_model_exclude_none=True,
    responses=TOO_EXPENSIVE | LIMITED,
    dependencies=[SearchLimit],
)
async def search_paragraphs(body: SearchRequest, resources: ResourcesDep, response: Response) -> Response:
    """Paragraphs holding all (`and`) or any (`or`) of the words, whole words, case-insensitive."""
    return await _respond(body, resources, response)


@router.get(
    "/search",
    response_model=SearchResponse,
    response_model_exclude_none=True,
    responses=TOO_EXPENSIVE | LIMITED,
    dependencies=[SearchLimit],
)
async def search_paragraphs_by_link(
    query: Annotated[SearchQuery, Query()], resources: ResourcesDep, response: Response
) -> Response:
    """The same search as POST /search, from the query string: `?words=a,b&operator=and` or `?words=a&words=b`."""
    return await _respond(query, resources, response)
