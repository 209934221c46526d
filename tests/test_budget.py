"""Bounded cost per request: bodies over the limit are a 413 before parsing; the largest valid request passes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from paragraphs.budget import MAX_BODY_BYTES
from paragraphs.corpus.limits import MAX_CONTENT_CHARS


async def paragraph_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/paragraphs", params={"limit": 1000})).json()["paragraphs"])


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert "larger than any valid request" in response.json()["detail"]


class TestBodyLimit:
    async def test_the_largest_valid_paragraph_in_the_most_escaped_json_is_accepted(
        self, client: httpx.AsyncClient
    ) -> None:
        # 100,000 characters beyond the BMP, each escaped as a surrogate pair (12 bytes): the worst case.
        body = json.dumps({"content": "\U0001f600" * (MAX_CONTENT_CHARS - 1) + "a"}, ensure_ascii=True).encode()
        assert len(body) > 1_199_000
        response = await client.post("/paragraphs", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 201, response.text[:300]
        assert response.json()["word_count"] == 1

    async def test_a_declared_length_over_the_limit_is_413_and_nothing_is_stored(
        self, client: httpx.AsyncClient
    ) -> None:
        body = json.dumps({"content": "word " * (MAX_BODY_BYTES // 5 + 1)}).encode()
        response = await client.post("/paragraphs", content=body, headers={"content-type": "application/json"})
        assert_too_large(response)
        assert await paragraph_count(client) == 0

    async def test_a_streamed_body_without_length_is_cut_at_the_limit(self, client: httpx.AsyncClient) -> None:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"content": "'
            for _ in range(10_000):  # up to 10 MB, but the server stops reading past the limit
                sent += 1024
                yield b"w " * 512

        response = await client.post("/paragraphs", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert_too_large(response)
        assert sent < MAX_BODY_BYTES + 2 * 1024
        assert await paragraph_count(client) == 0

    @pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
    async def test_two_million_search_words_are_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/search", json={"words": ["a"] * 2_000_000, "operator": "or"})
        assert_too_large(response)

    @pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
    async def test_a_words_list_under_the_byte_limit_is_refused_by_its_length(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/search", json={"words": ["a"] * 200_000, "operator": "or"})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "words"]
        assert error["type"] == "too_long"
