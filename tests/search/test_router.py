"""POST/GET /search over HTTP on both engines: contract shapes, validation, cache, highlights."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from paragraphs.corpus import service as corpus_service
from paragraphs.db.engine import Database
from paragraphs.db.models import Source


async def add(client: httpx.AsyncClient, content: str) -> int:
    response = await client.post("/paragraphs", json={"content": content})
    assert response.status_code == 201, response.text
    paragraph_id = response.json()["id"]
    assert isinstance(paragraph_id, int)
    return paragraph_id


async def search(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/search", json=body)


async def found_ids(client: httpx.AsyncClient, words: list[str], operator: str = "and") -> list[int]:
    response = await search(client, words=words, operator=operator)
    assert response.status_code == 200, response.text
    return [paragraph["id"] for paragraph in response.json()["paragraphs"]]


@pytest.fixture
async def corpus(client: httpx.AsyncClient) -> dict[str, int]:
    return {
        "apple": await add(client, "An apple a day. Someone said: none of them!"),
        "banana": await add(client, "Banana and APPLE, well-known fruits."),
        "cherry": await add(client, "Don’t eat the cherry's stone; it's o'clock."),
    }


class TestWholeWords:
    async def test_and_needs_every_word_newest_first(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        assert await found_ids(client, ["apple"]) == [corpus["banana"], corpus["apple"]]
        assert await found_ids(client, ["apple", "banana"]) == [corpus["banana"]]

    async def test_or_needs_any_word(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        assert await found_ids(client, ["banana", "cherry"], "or") == [corpus["cherry"], corpus["banana"]]

    async def test_case_insensitive_and_operator_case_insensitive(
        self, client: httpx.AsyncClient, corpus: dict[str, int]
    ) -> None:
        assert await found_ids(client, ["APPLE", "Banana"], "AND") == [corpus["banana"]]

    async def test_substrings_never_match(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        assert await found_ids(client, ["one"]) == []
        assert await found_ids(client, ["app"]) == []
        assert await found_ids(client, ["none"]) == [corpus["apple"]]

    async def test_apostrophes_hyphens_and_possessives(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        assert await found_ids(client, ["don't"]) == [corpus["cherry"]]
        assert await found_ids(client, ["don’t"]) == [corpus["cherry"]]
        assert await found_ids(client, ["don"]) == []
        assert await found_ids(client, ["cherry"]) == [corpus["cherry"]]
        assert await found_ids(client, ["cherry's"]) == [corpus["cherry"]]
        assert await found_ids(client, ["it"]) == [corpus["cherry"]]
        assert await found_ids(client, ["known"]) == [corpus["banana"]]
        assert await found_ids(client, ["o'clock"]) == [corpus["cherry"]]

    async def test_duplicate_words_collapse(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        assert await found_ids(client, ["apple", "APPLE", "apple"]) == [corpus["banana"], corpus["apple"]]


class TestResponse:
    async def test_shape_and_total_count_over_pages(self, client: httpx.AsyncClient) -> None:
        ids = [await add(client, f"common word number {i}") for i in range(5)]
        response = await search(client, operator="and", words=["common"], limit=2, offset=1)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"paragraphs", "total_count"}
        assert body["total_count"] == 5
        assert [p["id"] for p in body["paragraphs"]] == [ids[3], ids[2]]
        assert set(body["paragraphs"][0]) == {"id", "content", "source", "word_count", "created_at"}

    async def test_offset_past_the_end(self, client: httpx.AsyncClient) -> None:
        await add(client, "lonely")
        body = (await search(client, operator="and", words=["lonely"], offset=5)).json()
        assert body == {"paragraphs": [], "total_count": 1}

    async def test_get_form_matches_post(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        response = await client.get("/search", params={"words": "apple,banana", "operator": "or", "limit": 10})
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["paragraphs"]] == [corpus["banana"], corpus["apple"]]
        assert response.json()["total_count"] == 2

    async def test_relevance_order(self, client: httpx.AsyncClient) -> None:
        strong = await add(client, "fig fig fig fig and fig")
        weak = await add(client, "fig among many many other words in a long long sentence here")
        body = (await search(client, operator="and", words=["fig"], order="relevance")).json()
        assert [p["id"] for p in body["paragraphs"]] == [strong, weak]


class TestHighlights:
    async def test_marks_matches_and_escapes_the_rest(self, client: httpx.AsyncClient) -> None:
        await add(client, "<b>Bold</b> claims & the Apple's core.")
        body = (await search(client, operator="and", words=["apple"], highlight=True)).json()
        assert body["paragraphs"][0]["highlights"] == [
            "&lt;b&gt;Bold&lt;/b&gt; claims &amp; the <mark>Apple's</mark> core."
        ]

    async def test_at_most_three_snippets_of_about_twenty_words(self, client: httpx.AsyncClient) -> None:
        content = " ".join((["target"] + ["filler"] * 30) * 5)
        await add(client, content)
        highlights = (await search(client, operator="and", words=["target"], highlight=True)).json()["paragraphs"][0][
            "highlights"
        ]
        assert len(highlights) == 3
        for snippet in highlights:
            assert "<mark>target</mark>" in snippet
            assert len(snippet.replace("…", " ").split()) <= 21

    async def test_absent_without_the_option(self, client: httpx.AsyncClient, corpus: dict[str, int]) -> None:
        body = (await search(client, operator="and", words=["apple"])).json()
        assert "highlights" not in body["paragraphs"][0]


class TestValidation:
    @pytest.mark.parametrize(
        "body",
        [
            {"words": [], "operator": "and"},
            {"words": ["well-known"], "operator": "and"},
            {"words": ["two words"], "operator": "and"},
            {"words": ["..."], "operator": "and"},
            {"words": [""], "operator": "and"},
            {"words": ["ok"], "operator": "xor"},
            {"words": ["ok"], "limit": 0, "operator": "and"},
            {"words": ["ok"], "limit": 1001, "operator": "and"},
            {"words": ["ok"], "offset": -1, "operator": "and"},
            {"words": ["ok"], "unknown": 1, "operator": "and"},
            {"words": "ok", "operator": "and"},
            {"words": [f"w{i}" for i in range(51)], "operator": "and"},
            {"operator": "and"},
            {"words": ["ok"]},
            {"words": ["ok"], "operator": None},
        ],
    )
    async def test_bad_queries_are_422(self, client: httpx.AsyncClient, body: dict[str, object]) -> None:
        response = await search(client, **body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"]

    async def test_the_detail_names_the_bad_item(self, client: httpx.AsyncClient) -> None:
        response = await search(client, operator="and", words=["fine", "not-one"])
        error = response.json()["detail"][0]
        assert error["loc"] == ["body", "words", 1]
        assert "not-one" in error["msg"]

    async def test_get_form_validates_too(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/search", params={"words": "fine,not-one", "operator": "and"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "words", 1]

    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_operator_is_required(self, client: httpx.AsyncClient, method: str) -> None:
        if method == "GET":
            response = await client.get("/search", params={"words": "apple"})
        else:
            response = await client.post("/search", json={"words": ["apple"]})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"][1:] == ["operator"]
        assert error["type"] == "missing"

    @pytest.mark.parametrize(
        "params",
        [
            {"words": ["apple", "banana"]},
            {"words": ["apple,banana"]},
            {"words": ["apple", "banana,apple"]},
            {"words": [" apple , banana "]},
        ],
    )
    async def test_get_takes_repeated_and_comma_separated_words(
        self, client: httpx.AsyncClient, corpus: dict[str, int], params: dict[str, list[str]]
    ) -> None:
        response = await client.get("/search", params={**params, "operator": "or"})
        assert response.status_code == 200, response.text
        assert [p["id"] for p in response.json()["paragraphs"]] == [corpus["banana"], corpus["apple"]]
        together = await client.get("/search", params={**params, "operator": "and"})
        assert [p["id"] for p in together.json()["paragraphs"]] == [corpus["banana"]]

    async def test_get_counts_every_repeated_word_against_the_limit(self, client: httpx.AsyncClient) -> None:
        params = {"words": [",".join(f"w{i}" for i in range(30)), ",".join(f"v{i}" for i in range(21))]}
        response = await client.get("/search", params={**params, "operator": "or"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "too_long"

    async def test_openapi_declares_the_shared_schema_with_enums(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/openapi.json")).json()
        parameters = {p["name"]: p for p in spec["paths"]["/search"]["get"]["parameters"]}
        assert set(parameters) == {"words", "operator", "limit", "offset", "highlight", "order"}
        assert parameters["operator"]["required"] is True
        assert parameters["operator"]["schema"]["enum"] == ["and", "or"]
        assert parameters["order"]["schema"]["enum"] == ["newest", "relevance"]
        assert parameters["words"]["schema"]["type"] == "array"
        body = spec["components"]["schemas"]["SearchRequest"]
        assert "operator" in body["required"]

    @pytest.mark.parametrize(
        "hostile",
        ['"', "*", "NEAR", "near", "&", "|", "!", ":", "(", "')--", "a'b", "AND", "OR", "NOT", "\\", "%", "_", ".*"],
    )
    async def test_hostile_strings_are_text_never_syntax(self, client: httpx.AsyncClient, hostile: str) -> None:
        await add(client, "near and not or a'b")
        response = await search(client, operator="and", words=[hostile])
        assert response.status_code in {200, 422}, response.text
        if response.status_code == 200:
            assert response.json()["total_count"] in {0, 1}


class TestResultCache:
    async def test_repeat_is_a_hit_and_a_write_makes_it_a_miss(self, client: httpx.AsyncClient) -> None:
        first_id = await add(client, "cached word")
        first = await search(client, operator="and", words=["cached"])
        assert first.headers["X-Cache"] == "MISS"
        again = await search(client, operator="and", words=["CACHED"])
        assert again.headers["X-Cache"] == "HIT"
        assert again.json() == first.json()

        second_id = await add(client, "another cached word")
        after_create = await search(client, operator="and", words=["cached"])
        assert after_create.headers["X-Cache"] == "MISS"
        assert [p["id"] for p in after_create.json()["paragraphs"]] == [second_id, first_id]

        await client.put(f"/paragraphs/{second_id}", json={"content": "no longer matching"})
        after_update = await search(client, operator="and", words=["cached"])
        assert [p["id"] for p in after_update.json()["paragraphs"]] == [first_id]

        await client.delete(f"/paragraphs/{first_id}")
        after_delete = await search(client, operator="and", words=["cached"])
        assert after_delete.json() == {"paragraphs": [], "total_count": 0}

    async def test_a_write_to_other_words_keeps_the_answer_cached(self, client: httpx.AsyncClient) -> None:
        """Cached answers follow their words' versions (docs/search.md): a write holding none of a
        search's words leaves it a hit; a write holding one, even keeping every word, makes it a miss."""
        paragraph_id = await add(client, "Cached apples.")
        first = await search(client, operator="or", words=["apples", "pears"])
        assert first.headers["X-Cache"] == "MISS"
        await add(client, "unrelated text")
        kept = await search(client, operator="or", words=["apples", "pears"])
        assert (kept.headers["X-Cache"], kept.content) == ("HIT", first.content)

        await client.put(f"/paragraphs/{paragraph_id}", json={"content": "cached APPLES!"})
        after = await search(client, operator="or", words=["apples", "pears"])
        assert after.headers["X-Cache"] == "MISS"
        assert after.json()["paragraphs"][0]["content"] == "cached APPLES!"
        await add(client, "pears")
        assert (await search(client, operator="or", words=["apples", "pears"])).json()["total_count"] == 2

    async def test_a_hit_sends_the_bytes_of_the_miss(self, client: httpx.AsyncClient) -> None:
        paragraph_id = await add(client, "Stored bytes, café and “quotes”.")
        for highlight in (False, True):
            miss = await search(client, operator="and", words=["café"], highlight=highlight)
            hit = await search(client, operator="and", words=["CAFÉ"], highlight=highlight)
            assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
            assert hit.content == miss.content
            assert hit.headers["content-type"] == miss.headers["content-type"] == "application/json"
            paragraph = hit.json()["paragraphs"][0]
            assert paragraph["id"] == paragraph_id
            assert paragraph["created_at"].endswith("Z")
            assert ("highlights" in paragraph) is highlight

    async def test_a_write_by_another_process_is_seen(self, client: httpx.AsyncClient, db: Database) -> None:
        """A hit is looked up under the version this process knows; a write it did not make (a CLI
        import, another worker) must still turn the next search into a miss."""
        await add(client, "elsewhere")
        assert (await search(client, operator="and", words=["elsewhere"])).json()["total_count"] == 1
        assert (await search(client, operator="and", words=["elsewhere"])).headers["X-Cache"] == "HIT"
        async with db.write() as session:  # not through this app: as another process writes
            await corpus_service.create_paragraph(session, "elsewhere again", Source.IMPORT)
        deadline = asyncio.get_running_loop().time() + 5  # PostgreSQL: NOTIFY reaches the listener
        while (response := await search(client, operator="and", words=["elsewhere"])).json()["total_count"] != 2:
            assert db.dialect == "postgresql", "SQLite must see the commit at once (PRAGMA data_version)"
            assert asyncio.get_running_loop().time() < deadline, "the other process's write was never seen"
            await asyncio.sleep(0.02)
        assert response.headers["X-Cache"] == "MISS"
