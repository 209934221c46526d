"""Cached GET /dictionary and GET /search answered before the routes (paragraphs/cached_reads.py):
only hits whose query the route would read the same way, with the same bytes and headers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paragraphs.app import create_app
from paragraphs.cached_reads import CachedReads, dictionary_limit, search_query
from paragraphs.settings import Settings

both_engines = pytest.mark.parametrize("engine_name", ["sqlite", "postgres"], indirect=True)

CONTENTS = ["The fox and the hound.", "A fox, a café and THE end.", "Hounds don't sleep; the fox does."]

DICTIONARY_QUERIES = ["", "limit=5", "limit=100", "limit=0", "limit=101", "limit=05", "limit=x", "limit=5&limit=6",
                      "limit=%35", "other=1", "limit=5&other=1"]  # fmt: skip
SEARCH_QUERIES = [
    "words=the&operator=and&limit=10",
    "words=The,FOX&operator=OR",
    "words=the&words=fox&operator=and&offset=1",
    "words=caf%C3%A9&operator=and&highlight=true",
    "words=fox&operator=and&order=relevance",
    "words=the+fox&operator=and",
    "words=the&operator=and&extra=1",
    "words=&operator=and",
    "words=the&operator=and&limit=5&limit=6",
    "words=the&operator=xor",
    "words=the&operator=and&offset=-1",
    "words=the&operator=and&limit=1001",
    "operator=and",
    "words=the",
]
JSON = "application/json"
SEARCH_BODIES: list[tuple[str | None, bytes]] = [
    (JSON, b'{"words": ["the"], "operator": "and", "limit": 10}'),
    (JSON, b'{"words": ["The", "FOX"], "operator": "OR"}'),
    (JSON, '{"words": ["café"], "operator": "and", "highlight": true}'.encode()),
    (JSON, b'{"words": ["fox"], "operator": "and", "order": "relevance", "offset": 1}'),
    (JSON, b'{"words": ["the"], "operator": "and", "limit": "5"}'),
    (JSON, b'{"words": ["the"], "operator": "and", "limit": 5, "limit": 6}'),
    ("application/json; charset=utf-8", b'{"words": ["fox"], "operator": "and"}'),
    ("Application/JSON", b'{"words": ["hound"], "operator": "and"}'),
    (JSON, b'{"words": ["the fox"], "operator": "and"}'),
    (JSON, b'{"words": ["the"], "operator": "and", "extra": 1}'),
    (JSON, b'{"words": [], "operator": "and"}'),
    (JSON, b'{"words": ["the"], "operator": "xor"}'),
    (JSON, b'{"words": ["the"]}'),
    (JSON, b'["the"]'),
    (JSON, b"not json"),
    (JSON, b'{"words": ["the"], "operator": "and", "limit": NaN}'),
    (JSON, b'{"words": ["the"], "operator": "and"}'),  # cached: the two below would be hits if read as JSON
    ("text/plain", b'{"words": ["the"], "operator": "and"}'),
    (None, b'{"words": ["the"], "operator": "and"}'),
]
# Not RateLimit-Reset and Retry-After: seconds to the window's end, read off the clock.
COMPARED_HEADERS = ("content-type", "content-length", "x-cache", "ratelimit-limit", "ratelimit-remaining",
                    "ratelimit-policy")  # fmt: skip


def without_cached_reads(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not CachedReads]  # type: ignore[comparison-overlap]
    return app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://paragraphs.test") as client,
    ):
        yield client


Answer = tuple[int, str, dict[str, str]]


def answer(response: httpx.Response) -> Answer:
    headers = {name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers}
    headers["retry-after"] = str("retry-after" in response.headers)
    text = re.sub(r"try again in \d+ s", "try again in N s", response.text)  # the clock again
    return response.status_code, text, headers


async def answers(client: httpx.AsyncClient, path: str, queries: list[str]) -> list[Answer]:
    """Each query asked twice (a miss, then a hit where there is one)."""
    return [answer(await client.get(f"{path}?{query}")) for query in queries for _ in range(2)]


async def posted_answers(client: httpx.AsyncClient, bodies: list[tuple[str | None, bytes]]) -> list[Answer]:
    """Each body posted to /search twice."""
    found = []
    for content_type, body in bodies:
        headers = {} if content_type is None else {"content-type": content_type}
        for _ in range(2):
            found.append(answer(await client.post("/search", content=body, headers=headers)))
    return found


@both_engines
class TestSameAnswerAsTheRoutes:
    @pytest.mark.parametrize(("path", "queries"), [("/dictionary", DICTIONARY_QUERIES), ("/search", SEARCH_QUERIES)])
    async def test_every_query_is_answered_alike_with_and_without_the_layer(
        self, settings: Settings, path: str, queries: list[str]
    ) -> None:
        settings = settings.model_copy(update={"rate_limit_search": "20/hour"})  # runs out: 429s compared too
        async with serving(create_app(settings)) as client:
            for content in CONTENTS:
                assert (await client.post("/paragraphs", json={"content": content})).status_code == 201
            with_layer = await answers(client, path, queries)
        async with serving(without_cached_reads(settings)) as client:
            without = await answers(client, path, queries)
        assert with_layer == without
        statuses = {status for status, _, _ in with_layer}
        assert 200 in statuses
        assert statuses & {422, 429}

    @pytest.mark.parametrize("rate_limit", ["1000/hour", "30/hour"])  # the second runs out: 429s compared too
    async def test_every_posted_search_is_answered_alike_with_and_without_the_layer(
        self, settings: Settings, rate_limit: str
    ) -> None:
        settings = settings.model_copy(update={"rate_limit_search": rate_limit})
        async with serving(create_app(settings)) as client:
            for content in CONTENTS:
                assert (await client.post("/paragraphs", json={"content": content})).status_code == 201
            with_layer = await posted_answers(client, SEARCH_BODIES)
        async with serving(without_cached_reads(settings)) as client:
            without = await posted_answers(client, SEARCH_BODIES)
        assert with_layer == without
        assert [headers.get("x-cache") for _, _, headers in with_layer[:4]] == ["MISS", "HIT", "MISS", "HIT"]
        statuses = {status for status, _, _ in with_layer}
        assert {200, 422} <= statuses
        assert (429 in statuses) == (rate_limit == "30/hour")


def http_scope(
    path: str, query: bytes, state: dict[str, object], method: str = "GET", length: int | None = None
) -> Scope:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "", "state": dict(state),
            "headers": headers, "client": ("127.0.0.1", 50000), "server": ("paragraphs.test", 80)}  # fmt: skip


class RecordingApp:
    """Stands where the routes are: records the requests that reach them."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        if scope["method"] == "POST":
            message = await receive()
            self.bodies.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def call(app: ASGIApp, scope: Scope, body: bytes = b"") -> list[Message]:
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        # As a server: the body once, then nothing until the client leaves (it stays). A receive that
        # answered at once forever would make the disconnect watcher of a request slower than
        # budget.WATCH_AFTER_S spin without yielding: the event loop hung until the test timed out.
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@both_engines
class TestOnlyHitsAreAnsweredHere:
    async def test_hits_never_reach_the_routes_and_everything_else_does(self, settings: Settings) -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as lifespan_state:
            assert lifespan_state is not None
            state = dict(lifespan_state)
            created = await call(app, http_scope("/paragraphs", b"", state, "POST"), b'{"content": "The fox."}')
            assert created[0]["status"] == 201
            await call(app, http_scope("/dictionary", b"", state))  # a miss: the cache is filled
            await call(app, http_scope("/search", b"words=fox&operator=and", state))
            routes = RecordingApp()
            layer = CachedReads(routes)

            hit = await call(layer, http_scope("/dictionary", b"", state))
            assert hit[0]["status"] == 200
            assert b'"word":"the"' in hit[1]["body"]
            searched = await call(layer, http_scope("/search", b"words=FOX&operator=and", state))
            assert (b"x-cache", b"HIT") in searched[0]["headers"]
            assert b'"total_count":1' in searched[1]["body"]
            assert routes.paths == []

            for path, query in [("/dictionary", b"limit=3"), ("/search", b"words=the&operator=and"),
                                ("/search", b"words=fox&operator=and&x=1"), ("/paragraphs", b"")]:  # fmt: skip
                await call(layer, http_scope(path, query, state))
            await call(layer, http_scope("/dictionary", b"", state, "HEAD"))
            assert routes.paths == ["/dictionary", "/search", "/search", "/paragraphs", "/dictionary"]

    async def test_a_posted_hit_never_reaches_the_routes_and_a_miss_arrives_with_its_body(
        self, settings: Settings
    ) -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as lifespan_state:
            assert lifespan_state is not None
            state = dict(lifespan_state)
            await call(app, http_scope("/paragraphs", b"", state, "POST"), b'{"content": "The fox."}')
            fox = b'{"words": ["fox"], "operator": "and"}'
            await call(app, http_scope("/search", b"", state, "POST", len(fox)), fox)  # a miss: cached now
            routes = RecordingApp()
            layer = CachedReads(routes)

            hit = await call(layer, http_scope("/search", b"", state, "POST", len(fox)), fox)
            assert (b"x-cache", b"HIT") in hit[0]["headers"]
            assert b'"total_count":1' in hit[1]["body"]
            assert routes.paths == []

            the = b'{"words": ["the"], "operator": "and"}'
            bad = b'{"words": ["the fox"], "operator": "and"}'
            for body in (the, bad):  # a miss, a 422: the routes get them as they came
                await call(layer, http_scope("/search", b"", state, "POST", len(body)), body)
            await call(layer, http_scope("/search", b"", state, "POST"), fox)  # no declared length: unread
            await call(layer, http_scope("/paragraphs", b"", state, "POST", len(fox)), fox)
            assert routes.paths == ["/search", "/search", "/search", "/paragraphs"]
            assert routes.bodies == [the, bad, fox, fox]

    async def test_a_hit_is_counted_under_its_route(self, client: httpx.AsyncClient) -> None:
        labels = 'handler="/search",method="GET",status="200"'
        pattern = re.compile(rf"^paragraphs_http_requests_total\{{{re.escape(labels)}\}} ([0-9.e+]+)$", re.MULTILINE)

        def requests(scrape: str) -> float:
            match = pattern.search(scrape)
            return float(match.group(1)) if match else 0.0

        before = requests((await client.get("/metrics")).text)
        for _ in range(3):
            await client.get("/search?words=counted&operator=and")
        assert requests((await client.get("/metrics")).text) == before + 3


class TestQueryReading:
    @pytest.mark.parametrize(
        ("query", "limit"),
        [
            (b"", 10),
            (b"limit=1", 1),
            (b"limit=100", 100),
            (b"limit=0", None),
            (b"limit=101", None),
            (b"limit=007", None),
            (b"limit=-1", None),
            (b"limit=5&limit=6", None),
            (b"other=1", None),
        ],
    )
    def test_dictionary_limit(self, query: bytes, limit: int | None) -> None:
        assert dictionary_limit(query) == limit

    def test_search_query_reads_repeated_and_comma_separated_words(self) -> None:
        read = search_query(b"words=a,b&words=c&operator=OR&limit=5")
        assert read is not None
        assert (read.words, read.operator, read.limit) == (["a", "b", "c"], "or", 5)
        assert search_query(b"words=a&operator=and&operator=or") is None
        assert search_query(b"words=a&operator=and&unknown=1") is None
        assert search_query(b"words=a%20b&operator=and") is None
