"""A `serve` process readies itself before its first request: pools opened, start-up frozen (warmup.py)."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from sqlalchemy.pool import QueuePool

from paragraphs import warmup
from paragraphs.app import create_app
from paragraphs.db.engine import Database, create_database
from paragraphs.resources import Resources
from paragraphs.settings import Settings
from tests.e2e.server import free_port


@asynccontextmanager
async def lifespan_of(app: FastAPI) -> AsyncIterator[Resources]:
    """The app's lifespan run as the server runs it, and the resources it opened."""
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        resources = state["resources"]
        assert isinstance(resources, Resources)
        yield resources


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """A test that readies a process gives the test process its collector and switch interval back."""
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def url_of(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _checked_in(pool: object) -> int:
    assert isinstance(pool, QueuePool)
    return pool.checkedin()


async def test_the_search_pool_is_opened_whole_before_the_first_request(postgres_database_url: str) -> None:
    db = create_database(postgres_database_url, pool_size=3)
    try:
        assert _checked_in(db.search_engine.pool) == 0  # pools open connections on demand
        assert await warmup.open_connections(db.search_engine, 6) == 6
        assert _checked_in(db.search_engine.pool) == 6  # opened, and back in the pool for requests
    finally:
        await db.dispose()


async def test_a_database_that_cannot_be_reached_leaves_the_pool_as_it_was() -> None:
    db = create_database(f"postgresql://postgres@127.0.0.1:{free_port()}/none", pool_size=2)
    try:
        assert await warmup.open_connections(db.search_engine, 4) == 0
        assert _checked_in(db.search_engine.pool) == 0
    finally:
        await db.dispose()


@pytest.mark.usefixtures("unfrozen")
async def test_a_warm_app_opens_its_pools_and_freezes_what_start_up_made(postgres_db: Database) -> None:
    settings = Settings(database_url=url_of(postgres_db), offline=True, database_pool_size=2, _env_file=None)
    gc.unfreeze()
    async with lifespan_of(create_app(settings, warm=True)) as resources:
        assert _checked_in(resources.db.search_engine.pool) == 4
        assert _checked_in(resources.db.engine.pool) == warmup.MAIN_POOL_WARM
        assert gc.get_freeze_count() > 0
        assert sys.getswitchinterval() == pytest.approx(warmup.SWITCH_INTERVAL_S)


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_for_tests_and_tools_opens_nothing_ahead_and_freezes_nothing(postgres_db: Database) -> None:
    settings = Settings(database_url=url_of(postgres_db), offline=True, _env_file=None)
    gc.unfreeze()
    async with lifespan_of(create_app(settings)) as resources:
        assert _checked_in(resources.db.search_engine.pool) == 0
        assert gc.get_freeze_count() == 0
        assert sys.getswitchinterval() != pytest.approx(warmup.SWITCH_INTERVAL_S)
