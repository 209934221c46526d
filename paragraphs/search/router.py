"""Routes: POST /search and GET /search (the same search, as a link)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from paragraphs.deps import CacheDep, DatabaseDep
from paragraphs.search import service as search_service
from paragraphs.search.schemas import MAX_LIMIT, MAX_OFFSET, SearchRequest, SearchResponse

router = APIRouter(tags=["search"])


async def _respond(request: SearchRequest, db: DatabaseDep, cache: CacheDep, response: Response) -> SearchResponse:
    result, hit = await search_service.search(db, cache, request)
    response.headers["X-Cache"] = "HIT" if hit else "MISS"
    return result


@router.post("/search", response_model_exclude_none=True)
async def search_paragraphs(
    body: SearchRequest, db: DatabaseDep, cache: CacheDep, response: Response
) -> SearchResponse:
    """Paragraphs holding all (`and`) or any (`or`) of the words, whole words, case-insensitive."""
    return await _respond(body, db, cache, response)


@router.get("/search", response_model_exclude_none=True)
async def search_paragraphs_by_link(
    db: DatabaseDep,
    cache: CacheDep,
    response: Response,
    words: Annotated[str, Query(max_length=10_000, description="Comma-separated words, e.g. `one,two`.")],
    operator: Annotated[str, Query(description="and | or")] = "and",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    highlight: bool = False,
    order: Annotated[str, Query(description="newest | relevance")] = "newest",
) -> SearchResponse:
    """The same search as POST /search, with the words comma-separated in the query string."""
    try:
        request = SearchRequest(
            words=[word.strip() for word in words.split(",")],
            operator=operator,  # type: ignore[arg-type]
            limit=limit,
            offset=offset,
            highlight=highlight,
            order=order,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        # Report the errors where they came from: the query string.
        raise RequestValidationError(
            [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None
    return await _respond(request, db, cache, response)
