"""GET /dictionary with dictionaryapi.dev (a local stand-in): one request per word, a deadline, fallback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from paragraphs.settings import Settings
from tests.apps import app_client
from tests.fixtures.fake_dictionary import FakeDictionary, Mode

CONTENT = "The cat is a cat. Be the dog, the owl and a fox; zebra zebra."


@pytest.fixture
async def online(database_url: str, fake_dictionary: FakeDictionary) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url,
        dictionary_url=fake_dictionary.url,
        upstream_timeout=5,
        _env_file=None,
    )
    async with app_client(settings) as client:
        yield client


async def store(client: httpx.AsyncClient) -> None:
    assert (await client.post("/paragraphs", json={"content": CONTENT})).status_code == 201
    # The in-process warm-up job starts right after the write; let the tests start from a cold cache.
    await asyncio.sleep(0)


class TestDictionaryOnline:
    async def test_20_concurrent_cold_calls_make_one_request_per_word(
        self, online: httpx.AsyncClient, fake_dictionary: FakeDictionary
    ) -> None:
        fake_dictionary.mode = Mode.SLOW
        fake_dictionary.delay_s = 0.3
        await store(online)
        responses = await asyncio.gather(*(online.get("/dictionary") for _ in range(20)))
        assert all(response.status_code == 200 for response in responses)
        words = [w["word"] for w in responses[0].json()["words"]]
        assert words[:3] == ["the", "a", "cat"]
        assert {word: fake_dictionary.requests_for(word) for word in words} == dict.fromkeys(words, 1)

    async def test_sources_say_where_definitions_came_from(
        self, online: httpx.AsyncClient, fake_dictionary: FakeDictionary
    ) -> None:
        await store(online)
        words: dict[str, dict[str, object]] = {}
        for _ in range(20):  # a loaded machine may answer some after the deadline: ask again (bounded)
            words = {w["word"]: w for w in (await online.get("/dictionary", params={"limit": 20})).json()["words"]}
            if all(words.get(word, {}).get("source") for word in ("cat", "is", "be")):
                break
        assert words["cat"]["source"] == "dictionaryapi"
        assert words["cat"]["definitions"] == ["A cat of the first kind.", "A cat of the second kind."]
        assert words["is"]["source"] == "offline"  # dictionaryapi.dev answers 404 for `is`
        assert words["be"]["source"] == "offline"
        assert words["is"]["definitions"]

    async def test_a_hanging_provider_does_not_hang_the_endpoint(
        self, online: httpx.AsyncClient, fake_dictionary: FakeDictionary
    ) -> None:
        fake_dictionary.word_modes["zebra"] = Mode.HANG
        await store(online)
        started = time.monotonic()
        response = await online.get("/dictionary", params={"limit": 20})
        assert time.monotonic() - started < 4.5  # the 2 s deadline, not the hang's 5 s budget
        words = {w["word"]: w for w in response.json()["words"]}
        assert words["zebra"]["definitions"] == []
        assert words["zebra"]["source"] is None
        assert words["cat"]["definitions"]
