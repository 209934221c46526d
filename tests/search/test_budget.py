"""A search's time budget is enforced in the database: past it, a 503 that says why, and the database
is free again. A search whose client went away stops in the database too."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from paragraphs.cache import MemoryCache
from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database, create_database
from paragraphs.db.models import Source
from paragraphs.errors import QueryTooExpensive
from paragraphs.search import service as search_service
from paragraphs.search.schemas import SearchRequest
from paragraphs.settings import Settings
from tests.apps import app_client
from tests.e2e.server import Server, serve

WORDS = [f"w{i}" for i in range(50)]
EXPENSIVE = {"words": WORDS, "operator": "or", "order": "relevance", "limit": 10}


async def seed(db: Database, paragraphs: int) -> None:
    async with db.write() as session:
        for start in range(0, paragraphs, 500):
            batch = [
                corpus_service.Tokenized(content, content.split())
                for content in (
                    " ".join(WORDS[(i + k) % 50] for k in range(20)) for i in range(start, min(start + 500, paragraphs))
                )
            ]
            await corpus_service.create_paragraphs(session, batch, Source.IMPORT)


@asynccontextmanager
async def search_index_locked(db: Database) -> AsyncIterator[AsyncConnection]:
    """Another transaction holds the search table exclusively: every search waits on it."""
    async with db.engine.connect() as connection:
        await connection.execute(text("LOCK TABLE paragraph_search IN ACCESS EXCLUSIVE MODE"))
        yield connection
        await connection.rollback()


async def waiting_searches(db: Database) -> int:
    async with db.engine.connect() as connection:
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND query LIKE '%paragraph_search%' AND pid <> pg_backend_pid()"
            )
        )
    return int(count or 0)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def assert_too_expensive(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert "too expensive" in response.json()["detail"]


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
class TestSqliteBudget:
    async def test_a_search_past_its_budget_is_stopped_and_answered_503(self, db: Database, database_url: str) -> None:
        await seed(db, 1_000)
        # A budget already spent when the first progress step comes (every 1,000 SQLite instructions;
        # counting 1,000 matches takes several thousand): the outcome depends on no clock speed.
        spent = Settings(database_url=database_url, offline=True, search_timeout_s=1e-9, _env_file=None)
        async with app_client(spent) as client:
            assert_too_expensive(await client.post("/search", json=EXPENSIVE))
            # The connection is usable again: the handler went with the search.
            assert (await client.get("/paragraphs", params={"limit": 1})).status_code == 200
        roomy = Settings(database_url=database_url, offline=True, _env_file=None)
        async with app_client(roomy) as client:
            response = await client.post("/search", json=EXPENSIVE)
            assert response.status_code == 200
            assert response.json()["total_count"] == 1_000


@pytest.mark.parametrize("engine_name", ["postgres"], indirect=True)
class TestPostgresBudget:
    async def test_a_search_past_its_budget_is_cancelled_in_the_server(self, db: Database, database_url: str) -> None:
        await seed(db, 20)
        settings = Settings(database_url=database_url, offline=True, search_timeout_s=0.3, _env_file=None)
        async with app_client(settings) as client:
            async with search_index_locked(db):
                assert_too_expensive(await client.post("/search", json=EXPENSIVE))
                assert await waiting_searches(db) == 0  # the backend is free, not still waiting
            response = await client.post("/search", json=EXPENSIVE)
            assert response.status_code == 200
            assert response.json()["total_count"] == 20

    @pytest.mark.parametrize("connection_timeout_s", [0.3, 30.0])
    async def test_the_budget_holds_whatever_the_connections_own_timeout(
        self, db: Database, database_url: str, connection_timeout_s: float
    ) -> None:
        """Search connections start with the configured budget as their `statement_timeout`; a search
        asking for another budget sets its own."""
        await seed(db, 20)
        own = create_database(database_url, pool_size=1, search_timeout_s=connection_timeout_s)
        try:
            request = SearchRequest.model_validate(EXPENSIVE)
            async with search_index_locked(db):
                with pytest.raises(QueryTooExpensive):
                    await search_service.search_json(own, MemoryCache(), request, budget_s=0.3)
                assert await waiting_searches(db) == 0
        finally:
            await own.dispose()

    async def test_a_search_whose_client_leaves_stops_in_the_server(
        self, db: Database, database_url: str, tmp_path: Path
    ) -> None:
        await seed(db, 20)
        env = {
            "PARAGRAPHS_DATABASE_URL": database_url,
            "PARAGRAPHS_OFFLINE": "true",
            "PARAGRAPHS_SEARCH_TIMEOUT_S": "120",
        }
        with serve(env, tmp_path) as server:
            port = int(server.url.rsplit(":", 1)[1])
            body = json.dumps(EXPENSIVE).encode()
            request = (
                b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            async with search_index_locked(db):
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(request)
                await eventually_async(lambda: _at_least(db, 1))
                sock.close()  # the client gives up
                await eventually_async(lambda: _none(db))
            # The statement is cancelled in the server before the cancellation reaches the request's
            # task, which logs it: the line may land a moment after the database is free (seen once).
            await eventually_async(lambda: _logged(server, "client went away"))
            async with httpx.AsyncClient(base_url=server.url) as client:
                assert (await client.post("/search", json=EXPENSIVE)).json()["total_count"] == 20
                # Counted as nginx's 499 "client closed request", not as a 500.
                scrape = (await client.get("/metrics")).text
                assert 'handler="/search",method="POST",status="499"' in scrape
                assert 'status="500"' not in scrape


async def _logged(server: Server, text: str) -> bool:
    return text in server.log()


async def _at_least(db: Database, count: int) -> bool:
    return await waiting_searches(db) >= count


async def _none(db: Database) -> bool:
    return await waiting_searches(db) == 0
