"""GET /dictionary over HTTP on both engines, with the offline dictionary (PARAGRAPHS_OFFLINE=true)."""

from __future__ import annotations

import httpx
import pytest


async def add(client: httpx.AsyncClient, content: str) -> int:
    response = await client.post("/paragraphs", json={"content": content})
    assert response.status_code == 201
    paragraph_id = response.json()["id"]
    assert isinstance(paragraph_id, int)
    return paragraph_id


class TestDictionary:
    async def test_empty_corpus(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/dictionary")
        assert response.status_code == 200
        assert response.json() == {"words": []}

    async def test_top_words_by_count_then_word_with_definitions(self, client: httpx.AsyncClient) -> None:
        await add(client, "The cat is a cat. The dog is a dog; zebra zebra zebra.")
        response = await client.get("/dictionary", params={"limit": 4})
        assert response.status_code == 200
        words = response.json()["words"]
        assert [(w["word"], w["count"]) for w in words] == [("zebra", 3), ("a", 2), ("cat", 2), ("dog", 2)]
        article = words[1]
        assert article["source"] == "offline"
        assert article["definitions"]
        assert article["definitions"][0].startswith("Used before a singular noun")
        assert article["meanings"][0]["part_of_speech"] == "article"
        assert article["phonetic"] == "/ə/"
        unknown = words[0]
        assert unknown == {
            "word": "zebra",
            "count": 3,
            "definitions": [],
            "phonetic": None,
            "source": None,
            "meanings": [],
        }

    async def test_default_limit_is_ten(self, client: httpx.AsyncClient) -> None:
        await add(client, " ".join(f"w{i}" for i in range(15)))
        assert len((await client.get("/dictionary")).json()["words"]) == 10

    async def test_reflects_every_committed_write(self, client: httpx.AsyncClient) -> None:
        first = await add(client, "apple apple banana")
        assert (await client.get("/dictionary", params={"limit": 1})).json()["words"][0]["word"] == "apple"
        await client.put(f"/paragraphs/{first}", json={"content": "banana"})
        top = (await client.get("/dictionary", params={"limit": 5})).json()["words"]
        assert [(w["word"], w["count"]) for w in top] == [("banana", 1)]
        await client.delete(f"/paragraphs/{first}")
        assert (await client.get("/dictionary")).json() == {"words": []}

    @pytest.mark.parametrize("limit", ["0", "101", "x", "-1"])
    async def test_bad_limit_is_422(self, client: httpx.AsyncClient, limit: str) -> None:
        response = await client.get("/dictionary", params={"limit": limit})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]
