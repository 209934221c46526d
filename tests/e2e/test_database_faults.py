"""Fault test 7(b): PostgreSQL restarted (fast, immediate) and stopped for 5 s under traffic.

A PostgreSQL of the test's own (tests/fixtures/postgres_server.py) and a real `paragraphs serve` process.
16 clients write their own paragraphs while the database goes away. Every answer is a 2xx or a 503
with Retry-After (no 500, no dropped connection), every acknowledged write is there afterwards, the word
counts equal a recount, and the same server process serves again once the database is back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from paragraphs.db import migrate
from paragraphs.db.engine import create_database
from tests import databases
from tests.dictionary.test_counts import recount, stored_counts
from tests.e2e import traffic
from tests.e2e.server import Server, serve
from tests.fixtures.postgres_server import PostgresServer, pg_bin
from tests.services import missing

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.postgres]

CLIENTS = 16
STOPPED_S = 5.0
RECOVERY_DEADLINE_S = 30.0
WARM_UP_REQUESTS = 60


@pytest.fixture(scope="module")
async def own_postgres() -> AsyncIterator[PostgresServer]:
    bin_dir = pg_bin()
    if bin_dir is None:
        missing("PostgreSQL server binaries (pg_ctl, initdb)", "/usr/lib/postgresql/*/bin or PATH")
        raise AssertionError  # unreachable: missing() skips or fails
    server = PostgresServer(bin_dir)
    try:
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
        yield server
    finally:
        await asyncio.to_thread(server.destroy)


@pytest.fixture(scope="module")
async def own_database_url(own_postgres: PostgresServer) -> str:
    url = await databases.create_postgres_database(own_postgres.url)
    db = create_database(url, pool_size=1)
    try:
        await migrate.upgrade(db.engine)
    finally:
        await db.dispose()
    return url


@pytest.fixture
async def fault_server(own_database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    db = create_database(own_database_url, pool_size=1)
    try:
        await databases.empty_tables(db)
    finally:
        await db.dispose()
    with serve({"PARAGRAPHS_DATABASE_URL": own_database_url, "PARAGRAPHS_OFFLINE": "true"}, tmp_path) as server:
        yield server


async def owner(http: httpx.AsyncClient, ledger: traffic.Ledger, seed: int, stop: asyncio.Event) -> None:
    """One client writing and reading paragraphs only it touches, one request at a time."""
    rng = random.Random(seed)
    mine: list[int] = []
    while not stop.is_set():
        roll = rng.random()
        if not mine or roll < 0.3:
            pid = await traffic.create(http, ledger, rng)
            if pid is not None:
                mine.append(pid)
        elif roll < 0.6:
            await traffic.replace(http, ledger, rng, rng.choice(mine))
        elif roll < 0.75:
            pid = mine.pop(rng.randrange(len(mine)))
            await traffic.delete(http, ledger, pid)
        elif roll < 0.9:
            await traffic.call(http, ledger, "GET", f"/paragraphs/{rng.choice(mine)}")
        else:
            await traffic.search(http, ledger, rng)
        await asyncio.sleep(0.01)  # pacing: bounded load on a shared machine, not synchronisation


async def until(check: Callable[[], Awaitable[bool]], what: str, deadline_s: float) -> None:
    """Await `check()` until true; fail after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while not await check():
        assert time.monotonic() < deadline, f"{what}: not within {deadline_s} s"
        await asyncio.sleep(0.05)


async def readiness(http: httpx.AsyncClient) -> int:
    try:
        return (await http.get("/health/ready", timeout=5)).status_code
    except httpx.TransportError:
        return 0


def disrupt(database: PostgresServer, how: str) -> None:
    if how == "stopped-5s":
        database.stop("fast")
        time.sleep(STOPPED_S)  # the outage itself: the scenario is "down for 5 s"
    else:
        database.stop(how.removeprefix("restart-"))
    database.start()


def logged_503(server: Server) -> list[str]:
    """Access-log lines of 503 answers, readiness checks left out."""
    return [
        line
        for line in server.log().splitlines()
        if "status=503" in line and " request " in f" {line} " and "/health/ready" not in line
    ]


@pytest.mark.parametrize("how", ["restart-fast", "restart-immediate", "stopped-5s"])
async def test_database_goes_away_under_traffic(
    how: str, own_postgres: PostgresServer, own_database_url: str, fault_server: Server
) -> None:
    ledger = traffic.Ledger()
    stop = asyncio.Event()
    ready_statuses: list[int] = []
    async with httpx.AsyncClient(
        base_url=fault_server.url, timeout=60, limits=httpx.Limits(max_connections=CLIENTS + 4)
    ) as http:
        clients = [asyncio.create_task(owner(http, ledger, seed, stop)) for seed in range(CLIENTS)]

        async def poll_readiness() -> None:
            while not stop.is_set():
                ready_statuses.append(await readiness(http))
                await asyncio.sleep(0.1)

        poller = asyncio.create_task(poll_readiness())

        async def warmed_up() -> bool:
            return ledger.requests >= WARM_UP_REQUESTS

        await until(warmed_up, "traffic warm-up", 60)
        await asyncio.to_thread(disrupt, own_postgres, how)
        acknowledged_before = ledger.statuses[201]

        async def serving_again() -> bool:
            return ledger.statuses[201] >= acknowledged_before + CLIENTS and await readiness(http) == 200

        await until(serving_again, "recovery", RECOVERY_DEADLINE_S)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients, poller), timeout=60)

        stored = await traffic.read_all(http)
        lost = traffic.lost(ledger, stored)

        # The server counts and logs a request just after answering it: wait (bounded) until the
        # last answers are in, then compare exactly.
        async def metrics_caught_up() -> bool:
            metrics = (await http.get("/metrics")).text
            return traffic.requests_with_status(metrics, 503, exclude_handler="/health/ready") >= ledger.statuses[503]

        async def log_caught_up() -> bool:
            return len(logged_503(fault_server)) >= ledger.statuses[503]

        await until(metrics_caught_up, "503s in /metrics", 10)
        await until(log_caught_up, "503s in the access log", 10)
        metrics = (await http.get("/metrics")).text
    print(f"\n7(b) {how}: {ledger.summary()}, lost: {len(lost)}, readiness 503s seen: {ready_statuses.count(503)}")  # noqa: T201

    assert ledger.dropped == []
    assert set(ledger.statuses) <= {200, 201, 204, 503}, ledger.summary()
    assert lost == []
    assert fault_server.process.poll() is None  # recovered without a restart of the service
    db = create_database(own_database_url, pool_size=1)
    try:
        assert await stored_counts(db) == await recount(db)
    finally:
        await db.dispose()
    # The 503s are in /metrics and in the access log, as answered.
    assert traffic.requests_with_status(metrics, 503, exclude_handler="/health/ready") == ledger.statuses[503]
    assert len(logged_503(fault_server)) == ledger.statuses[503]
    if how == "stopped-5s":
        assert ledger.statuses[503] > 0
        assert 503 in ready_statuses


class TestEveryRouteWhileTheDatabaseIsDown:
    async def test_503_with_retry_after_then_serving_again(
        self, own_postgres: PostgresServer, fault_server: Server
    ) -> None:
        routes: list[tuple[str, str, dict[str, object]]] = [
            ("GET", "/paragraphs", {}),
            ("GET", "/paragraphs/1", {}),
            ("POST", "/paragraphs", {"json": {"content": "written while down"}}),
            ("PUT", "/paragraphs/1", {"json": {"content": "replaced while down"}}),
            ("DELETE", "/paragraphs/1", {}),
            ("POST", "/search", {"json": {"words": ["down"], "operator": "and"}}),
            ("GET", "/search", {"params": {"words": "down", "operator": "or"}}),
            ("GET", "/dictionary", {}),
            ("POST", "/fetch", {}),
        ]
        async with httpx.AsyncClient(base_url=fault_server.url, timeout=30) as http:
            assert (await http.post("/paragraphs", json={"content": "there before"})).status_code == 201
            await asyncio.to_thread(own_postgres.stop, "fast")
            try:

                async def not_ready() -> bool:
                    return await readiness(http) == 503

                await until(not_ready, "readiness 503", 5)
                for method, path, options in routes:
                    response = await http.request(method, path, **options)  # type: ignore[arg-type]
                    assert response.status_code == 503, (method, path, response.text)
                    assert response.headers["Retry-After"] == "1"
                    assert "database" in response.json()["detail"]
                assert (await http.get("/health")).status_code == 200
                assert (await http.get("/paragraphs/1")).json()["detail"].startswith("the database")
            finally:
                await asyncio.to_thread(own_postgres.start)

            async def ready() -> bool:
                return await readiness(http) == 200

            await until(ready, "readiness 200", RECOVERY_DEADLINE_S)
            for method, path, options in routes:
                response = await http.request(method, path, **options)  # type: ignore[arg-type]
                assert response.status_code < 500, (method, path, response.text)
        assert fault_server.process.poll() is None


class TestNoFreeConnections:
    async def test_a_role_out_of_connections_is_a_503_that_says_so(self, own_database_url: str, tmp_path: Path) -> None:
        """PostgreSQL refuses a new connection (`too many connections for role`, 53300): the request
        that needed it gets a 503 saying so and changes nothing; nothing else of the server breaks."""
        admin = await asyncpg.connect(make_url(own_database_url).set(drivername="postgresql").render_as_string())
        await admin.execute("DROP ROLE IF EXISTS limited; CREATE ROLE limited LOGIN CONNECTION LIMIT 4")
        await admin.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO limited")
        await admin.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO limited")
        limited_url = make_url(own_database_url).set(username="limited").render_as_string(hide_password=False)
        held: list[asyncpg.Connection] = []
        # Pool size 1: at start the server opens its search pool (2) and 2 of its main pool's
        # (warmup.py), the role's 4; the API writes' pool opens its first connection on the first write.
        settings = {
            "PARAGRAPHS_DATABASE_URL": limited_url,
            "PARAGRAPHS_OFFLINE": "true",
            "PARAGRAPHS_DATABASE_POOL_SIZE": "1",
        }
        try:
            with serve(settings, tmp_path) as server:
                async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                    assert (await http.get("/paragraphs")).status_code == 200
                    dsn = make_url(limited_url).set(drivername="postgresql").render_as_string(hide_password=False)
                    while True:  # take every connection the role has left (none, unless the server opened fewer)
                        try:
                            held.append(await asyncpg.connect(dsn))
                        except asyncpg.TooManyConnectionsError:
                            break
                        assert len(held) <= 4
                    response = await http.post("/paragraphs", json={"content": "refused"})
                    assert response.status_code == 503, response.text
                    assert response.headers["Retry-After"] == "1"
                    assert response.json()["detail"].startswith("the database has no free connections")
                    assert (await http.post("/search", json={"words": ["refused"], "operator": "and"})).json() == {
                        "paragraphs": [],
                        "total_count": 0,
                    }
                    for connection in held:
                        await connection.close()
                    held.clear()
                    await admin.execute("ALTER ROLE limited CONNECTION LIMIT 8")
                    response = await http.post("/paragraphs", json={"content": "refused"})
                    assert response.status_code == 201, response.text
        finally:
            for connection in held:
                await connection.close()
            await admin.execute("DROP OWNED BY limited; DROP ROLE limited")
            await admin.close()
