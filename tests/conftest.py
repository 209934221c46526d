"""Fixtures for the whole suite: databases on both engines, settings, the app and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings

from paragraphs.app import create_app
from paragraphs.db.engine import Database
from paragraphs.settings import Settings
from tests import databases
from tests.apps import app_client
from tests.fixtures.fake_dictionary import FakeDictionary
from tests.services import IN_CI, POSTGRES_URL, REDIS_URL, missing, reachable

# CI gives the same answer for the same commit: examples derived from each test's name, no example
# database carried between runs. Locally Hypothesis explores (random, remembers what failed).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile("ci" if IN_CI else "dev")

ENGINES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
async def postgres_database_url() -> AsyncIterator[str]:
    if not reachable(POSTGRES_URL, 5432):
        missing("PostgreSQL", POSTGRES_URL)
    url = await databases.create_postgres_database(POSTGRES_URL)
    yield url
    await databases.drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return databases.sqlite_url(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
async def sqlite_db(sqlite_database_url: str) -> AsyncIterator[Database]:
    async for db in databases.migrated(sqlite_database_url):
        yield db


@pytest.fixture(scope="session")
async def postgres_db(postgres_database_url: str) -> AsyncIterator[Database]:
    async for db in databases.migrated(postgres_database_url):
        yield db


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name = request.param
    assert isinstance(name, str)
    return name


@pytest.fixture
def migrated_db(engine_name: str, request: pytest.FixtureRequest) -> Database:
    # A sync fixture: only from one can an async session fixture be requested by name.
    database = request.getfixturevalue(f"{engine_name}_db")
    assert isinstance(database, Database)
    return database


@pytest.fixture
async def db(migrated_db: Database) -> Database:
    """A migrated database of each engine, emptied before the test."""
    await databases.empty_tables(migrated_db)
    return migrated_db


@pytest.fixture
def database_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, offline=True, _env_file=None)


@pytest.fixture
async def guarded(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app (offline) with API keys `k1` and `k2`: writes need one of them."""
    settings = Settings.model_validate({"database_url": database_url, "offline": True, "api_keys": "k1, k2"})
    async with app_client(settings) as client:
        yield client


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the app in-process (ASGI), lifespan state included."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://paragraphs.test") as http,
    ):
        yield http


@pytest.fixture(scope="session")
def fake_dictionary_server() -> Iterator[FakeDictionary]:
    fake = FakeDictionary()
    with fake.running():
        yield fake


@pytest.fixture
def fake_dictionary(fake_dictionary_server: FakeDictionary) -> Iterator[FakeDictionary]:
    fake_dictionary_server.reset()
    yield fake_dictionary_server
    fake_dictionary_server.reset()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not reachable(REDIS_URL, 6379):
        missing("Redis", REDIS_URL)
    return REDIS_URL


@pytest.fixture
async def redis_clean(redis_url: str) -> AsyncIterator[str]:
    """The test Redis database, flushed before and after the test."""
    client = redis.Redis.from_url(redis_url)
    await client.flushdb()
    yield redis_url
    await client.flushdb()
    await client.aclose()
