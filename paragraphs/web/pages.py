"""Pages that read: search (the home page), the paragraphs newest first, one paragraph, the words."""

from __future__ import annotations

import math
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.router import ParagraphId
from paragraphs.deps import CacheDep, DatabaseDep, ResourcesDep, SettingsDep
from paragraphs.dictionary import service as dictionary_service
from paragraphs.dictionary.schemas import DictionaryResponse
from paragraphs.search import service as search_service
from paragraphs.search.schemas import MAX_OFFSET, SearchRequest
from paragraphs.web import keys, stats
from paragraphs.web.chart import bar_chart
from paragraphs.web.render import PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RESULTS_PER_PAGE = 20
PARAGRAPHS_PER_PAGE = 20
PREVIEW_CHARS = 280
MAX_PAGE = MAX_OFFSET // RESULTS_PER_PAGE + 1
SEPARATORS = re.compile(r"[\s,]+")
SOURCES = {"dictionaryapi": "dictionaryapi.dev", "offline": "the built-in offline dictionary"}


def split_words(box: str) -> list[str]:
    """What a person types in the Words box: words separated by spaces or commas."""
    return [item for item in SEPARATORS.split(box.strip()) if item]


def problems(exc: ValidationError) -> list[str]:
    """The API's own 422 messages, without pydantic's `Value error, ` prefix."""
    messages = []
    for error in exc.errors(include_url=False):
        where = str(error["loc"][0]) if error["loc"] else "request"
        message = str(error["msg"]).removeprefix("Value error, ")
        messages.append(f"{where}: {message}")
    return messages


def search_url(words: str, operator: str, order: str, page_number: int) -> str:
    query = {"words": words, "operator": operator, "order": order}
    if page_number > 1:
        query["page"] = str(page_number)
    return "/?" + urlencode(query)


@router.get("/", name="web_search")
async def search_page(
    request: Request,
    db: DatabaseDep,
    cache: CacheDep,
    settings: SettingsDep,
    words: Annotated[str, Query(max_length=10_000)] = "",
    operator: Annotated[str, Query(max_length=10)] = "and",
    order: Annotated[str, Query(max_length=10)] = "newest",
    page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Search: the form, and with `words` the page of results."""
    context: dict[str, object] = {"words": words, "operator": operator, "order": order, "searched": False}
    items = split_words(words)
    if not items:
        return page(request, "search.html", context)
    try:
        query = SearchRequest(
            words=items,
            operator=operator,  # type: ignore[arg-type]
            order=order,  # type: ignore[arg-type]
            limit=RESULTS_PER_PAGE,
            offset=(page_number - 1) * RESULTS_PER_PAGE,
            highlight=True,
        )
    except ValidationError as exc:
        context["problems"] = problems(exc)
        return page(request, "search.html", context, status_code=422)
    result, _hit = await search_service.search(db, cache, query, settings.search_timeout_s)
    pages = max(1, math.ceil(result.total_count / RESULTS_PER_PAGE))
    context.update(
        searched=True,
        normalised=query.normalised_words(),
        result=result,
        page_number=page_number,
        pages=pages,
        first_shown=query.offset + 1,
        last_shown=query.offset + len(result.paragraphs),
        previous_url=search_url(words, query.operator, query.order, page_number - 1) if page_number > 1 else None,
        next_url=search_url(words, query.operator, query.order, page_number + 1) if page_number < pages else None,
    )
    return page(request, "search.html", context)


@router.get("/browse", name="web_paragraphs")
async def paragraphs_page(
    request: Request,
    db: DatabaseDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    deleted: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The stored paragraphs, newest first, a page at a time."""
    async with db.read() as session:
        rows, next_cursor = await corpus_service.list_paragraphs(session, PARAGRAPHS_PER_PAGE, cursor)
    context = {
        "paragraphs": rows,
        "next_url": "/browse?" + urlencode({"cursor": next_cursor}) if next_cursor else None,
        "is_first_page": cursor is None,
        "deleted": deleted,
        "preview_chars": PREVIEW_CHARS,
    }
    return page(request, "paragraphs.html", context)


@router.get("/browse/{paragraph_id}", name="web_paragraph")
async def paragraph_page(
    request: Request,
    paragraph_id: ParagraphId,
    db: DatabaseDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One paragraph: its text, words count, source and date."""
    async with db.read() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
    return page(request, "paragraph.html", {"paragraph": paragraph, "done": done})


@router.get("/words", name="web_words")
async def words_page(
    request: Request,
    resources: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """The corpus's most frequent words as a bar chart, with their definitions."""
    body = await dictionary_service.dictionary_json(
        resources.db, resources.definitions, resources.corpus_version, limit, resources.settings.dictionary_deadline_s
    )
    dictionary = DictionaryResponse.model_validate_json(body)
    context = {
        "limit": limit,
        "words": dictionary.words,
        "chart": bar_chart([(word.word, word.count) for word in dictionary.words]),
        "size": await stats.corpus_size(resources),
        "sources": SOURCES,
    }
    return page(request, "words.html", context)


@router.get("/key", name="web_key")
async def key_page(
    request: Request, resources: ResourcesDep, next_path: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    """The API-key form (only useful when the server has keys)."""
    context = {
        "keys_required": keys.keys_required(resources.settings),
        "has_key": not keys.needs_key(resources.settings, request),
        "next": keys.safe_next(next_path),
    }
    return page(request, "key.html", context)
