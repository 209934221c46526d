"""Cached answers of GET /dictionary and GET and POST /search, sent before FastAPI routes the request.

A cached answer is stored bytes, yet FastAPI's routing (the path tried against every route) and
dependency resolution (the query model, the rate-limit dependency, the response object) were most
of its cost: a cached `/dictionary` did about half the requests/s of a bare FastAPI endpoint, a
cached search under a third (bench/RESULTS.md, "hot path"). This pure-ASGI layer sits between the
request observer (request id, access log, metrics: it still sees every request) and the routes. It
answers only a hit whose query it reads exactly as the route would:
- `/dictionary`: no query string, or `limit=N` alone (N in 1..100, plain digits);
- `GET /search`: only SearchQuery's fields, each scalar given once, validated by SearchQuery itself;
- `POST /search`: a JSON body (`Content-Type: application/json`, a declared length of at most
  MAX_SEARCH_BODY_BYTES), read as FastAPI reads it (`json.loads`) and validated by SearchRequest
  itself; a body that is not answered here is handed on to the routes as it came;
- either search: the search rate limit is spent here, once per request (`RateLimiter.spend`), as
  the route does.

Everything else (a miss, a refused rate limit, a query string that would be a 422, a failure of
the database or the cache, HEAD, any other path) goes on to the routes, which answer exactly as they would without this layer (the miss is
counted and answered there): tests/test_cached_reads.py compares both ways.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

import structlog
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from paragraphs.budget import read_body, replay
from paragraphs.dictionary import service as dictionary_service
from paragraphs.ratelimit import LimitGroup
from paragraphs.resources import Resources
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchQuery, SearchRequest

log = structlog.get_logger(__name__)

DICTIONARY_PATH = "/dictionary"
SEARCH_PATH = "/search"
MAX_DICTIONARY_LIMIT = 100
PREPARED_SEARCHES = 1024  # query strings (and bodies) remembered (a few KiB each: a few MiB at worst)
# A search body is a few KiB at most (50 words of at most 200 characters); a larger one, or one of
# undeclared length, goes to the routes unread.
MAX_SEARCH_BODY_BYTES = 16 * 1024
_SEARCH_FIELDS = frozenset(SearchQuery.model_fields)
_LIST_FIELDS = frozenset({"words"})


def dictionary_limit(query_string: bytes) -> int | None:
    """The `limit` of a plain /dictionary query string (`` or `limit=N`), else None."""
    if not query_string:
        return 10
    name, _, value = query_string.partition(b"=")
    if name != b"limit" or not value.isdigit() or value.startswith(b"0") or len(value) > 3:
        return None
    limit = int(value)
    return limit if limit <= MAX_DICTIONARY_LIMIT else None


def search_query(query_string: bytes) -> SearchQuery | None:
    """The query string as GET /search reads it, or None if it is anything the route might read
    otherwise: an unknown name, a scalar given twice, a value SearchQuery refuses."""
    fields: dict[str, object] = {}
    words: list[str] = []
    # As Starlette reads a query string: latin-1 bytes, then percent-decoding as UTF-8.
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in _LIST_FIELDS:
            words.append(value)
        elif name not in _SEARCH_FIELDS or name in fields:
            return None
        else:
            fields[name] = value
    if words:
        fields["words"] = words
    try:
        return SearchQuery.model_validate(fields)
    except ValidationError:
        return None


@functools.lru_cache(maxsize=PREPARED_SEARCHES)
def prepared_search(query_string: bytes) -> search_service.PreparedSearch | None:
    """`search_query` prepared for the cache, remembered: clients repeat their searches, and reading,
    validating and hashing one cost more than the cache read."""
    request = search_query(query_string)
    return None if request is None else search_service.prepare(request)


REMEMBERED_BODY_BYTES = 1024  # bodies remembered at most this long: 1 MiB for all of them


def prepared_search_body(body: bytes) -> search_service.PreparedSearch | None:
    """POST /search's body as the route reads it (JSON, then SearchRequest), prepared; None if the
    route would refuse it or read it otherwise. Remembered, as query strings are, if short."""
    return _remembered_body(body) if len(body) <= REMEMBERED_BODY_BYTES else _prepared_body(body)


def _prepared_body(body: bytes) -> search_service.PreparedSearch | None:
    try:
        fields = json.loads(body)
        request = SearchRequest.model_validate(fields) if isinstance(fields, dict) else None
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or a ValidationError
        return None
    return None if request is None else search_service.prepare(request)


_remembered_body = functools.lru_cache(maxsize=PREPARED_SEARCHES)(_prepared_body)


def json_body_length(scope: Scope) -> int | None:
    """The declared length of a JSON body the layer may read, else None."""
    length: int | None = None
    json_type = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else None
        elif name == b"content-type":
            json_type = value.split(b";", 1)[0].strip().lower() == b"application/json"
    return length if json_type and length is not None and length <= MAX_SEARCH_BODY_BYTES else None


@dataclass(frozen=True)
class RouteTemplate:
    """What the router leaves in `scope["route"]`, as far as the request observer reads it: the path
    template its metrics are labelled by."""

    path: str


class CachedReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "POST"):
            path = scope["path"][len(scope.get("root_path", "")) :] if scope.get("root_path") else scope["path"]
            body: bytes | None = None
            if scope["method"] == "POST" and path == SEARCH_PATH and json_body_length(scope) is not None:
                messages, body = await read_body(receive, MAX_SEARCH_BODY_BYTES)
                receive = replay(messages, receive)  # whatever happens next, the routes get the body as it came
            try:
                hit = await self._hit(scope, path, body)
            except Exception:  # a database or cache failure: the route answers it (503, ...)
                log.debug("cached read failed, the route answers", path=scope["path"], exc_info=True)
                hit = None
            if hit is not None:
                scope["route"] = RouteTemplate(hit.path)
                await _send_json(send, hit.body, hit.headers)
                return
        await self.app(scope, receive, send)

    async def _hit(self, scope: Scope, path: str, body: bytes | None) -> _Hit | None:
        if scope["method"] == "POST":
            prepared = None if body is None else prepared_search_body(body)
            return None if prepared is None else await self._search_answer(scope, prepared)
        if path == DICTIONARY_PATH:
            return await self._dictionary_hit(scope)
        if path == SEARCH_PATH:
            prepared = prepared_search(scope["query_string"])
            return None if prepared is None else await self._search_answer(scope, prepared)
        return None

    async def _dictionary_hit(self, scope: Scope) -> _Hit | None:
        limit = dictionary_limit(scope["query_string"])
        resources = _resources(scope)
        if limit is None or resources is None:
            return None
        body = await dictionary_service.cached_answer(resources.cache, resources.corpus_version, limit)
        return None if body is None else _Hit(DICTIONARY_PATH, body, [])

    async def _search_answer(self, scope: Scope, prepared: search_service.PreparedSearch) -> _Hit | None:
        resources = _resources(scope)
        if resources is None:
            return None
        decision = await resources.ratelimit.spend(LimitGroup.SEARCH, scope)
        if decision is not None and not decision.allowed:
            return None  # the route's dependency answers 429 with this decision
        body = await search_service.cached_answer(resources.cache, resources.corpus_version, prepared)
        if body is None:
            return None
        headers = [(b"x-cache", b"HIT")]
        if decision is not None:
            headers += [(name.lower().encode(), value.encode()) for name, value in decision.headers().items()]
        return _Hit(SEARCH_PATH, body, headers)


@dataclass(frozen=True)
class _Hit:
    path: str
    body: bytes
    headers: list[tuple[bytes, bytes]]


def _resources(scope: Scope) -> Resources | None:
    """The lifespan's resources (None before the lifespan ran: the routes answer that request)."""
    resources = (scope.get("state") or {}).get("resources")
    return resources if isinstance(resources, Resources) else None


async def _send_json(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", b"application/json"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
