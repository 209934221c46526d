"""The paragraph routes over HTTP (in-process ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from paragraphs import text
from paragraphs.corpus import cursor as paging

DON_T = "Don't panic: the zeitgeist's well-known answer is 42."


async def create(client: httpx.AsyncClient, content: str) -> dict[str, object]:
    response = await client.post("/paragraphs", json={"content": content})
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def count_paragraphs(client: httpx.AsyncClient) -> int:
    response = await client.get("/paragraphs", params={"limit": 1000})
    return len(response.json()["paragraphs"])


class TestCreateParagraph:
    async def test_stores_user_text_with_its_word_count(self, client: httpx.AsyncClient) -> None:
        body = await create(client, DON_T)
        assert body["content"] == DON_T
        assert body["source"] == "user"
        assert body["word_count"] == len(text.words(DON_T)) == 9
        assert isinstance(body["id"], int)
        created_at = datetime.fromisoformat(str(body["created_at"]))
        assert created_at.utcoffset() is not None

    async def test_201_says_where_the_new_paragraph_lives(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/paragraphs", json={"content": "Located."})
        assert response.status_code == 201
        location = response.headers["Location"]
        assert location == f"/paragraphs/{response.json()['id']}"
        assert (await client.get(location)).json() == response.json()

    async def test_is_readable_afterwards(self, client: httpx.AsyncClient) -> None:
        body = await create(client, "One two three.")
        response = await client.get(f"/paragraphs/{body['id']}")
        assert response.status_code == 200
        assert response.json() == body

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"content": ""}, "content"),
            ({"content": "   "}, "content"),
            ({"content": "... --- !!!"}, "content"),
            ({"content": "x" * 100_001}, "content"),
            ({"content": 42}, "content"),
            ({"content": None}, "content"),
            ({"content": "fine words", "source": "offline"}, "source"),
            ({}, "content"),
            ({"content": "nul\x00byte"}, "content"),
        ],
    )
    async def test_rejects_bad_input_and_stores_nothing(
        self, client: httpx.AsyncClient, payload: dict[str, object], field: str
    ) -> None:
        response = await client.post("/paragraphs", json=payload)
        assert response.status_code == 422, response.text
        assert any(field in error["loc"] for error in response.json()["detail"])
        assert await count_paragraphs(client) == 0

    async def test_rejects_a_body_that_is_not_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/paragraphs", content=b"{not json", headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert await count_paragraphs(client) == 0

    async def test_rejects_a_lone_surrogate(self, client: httpx.AsyncClient) -> None:
        body = b'{"content": "lone \\ud800 surrogate"}'
        response = await client.post("/paragraphs", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "content"]
        assert await count_paragraphs(client) == 0

    async def test_accepts_the_longest_allowed_content(self, client: httpx.AsyncClient) -> None:
        content = ("word " * 20_000)[:100_000]
        body = await create(client, content)
        assert body["word_count"] == 20_000


class TestGetParagraph:
    async def test_missing_is_404_with_a_detail(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/paragraphs/12345")
        assert response.status_code == 404
        assert response.json() == {"detail": "paragraph 12345 does not exist"}

    @pytest.mark.parametrize("bad_id", ["abc", "1.5", "0", "-3", str(2**63)])
    async def test_ids_that_are_not_positive_integers_are_422(self, client: httpx.AsyncClient, bad_id: str) -> None:
        response = await client.get(f"/paragraphs/{bad_id}")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "paragraph_id"]


class TestListParagraphs:
    async def test_newest_first_and_every_paragraph_once_across_pages(self, client: httpx.AsyncClient) -> None:
        ids = [(await create(client, f"paragraph number {i}"))["id"] for i in range(7)]
        seen: list[object] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            response = await client.get("/paragraphs", params=params)
            assert response.status_code == 200
            page = response.json()
            seen.extend(paragraph["id"] for paragraph in page["paragraphs"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))
        assert pages == 3

    async def test_empty_corpus(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/paragraphs")
        assert response.json() == {"paragraphs": [], "next_cursor": None}

    async def test_exact_last_page_has_no_next_cursor(self, client: httpx.AsyncClient) -> None:
        for i in range(2):
            await create(client, f"text {i}")
        page = (await client.get("/paragraphs", params={"limit": 2})).json()
        assert len(page["paragraphs"]) == 2
        assert page["next_cursor"] is None

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"cursor": "not-a-cursor"}])
    async def test_bad_paging_is_422(self, client: httpx.AsyncClient, params: dict[str, str | int]) -> None:
        response = await client.get("/paragraphs", params=params)
        assert response.status_code == 422
        assert "detail" in response.json()

    @pytest.mark.parametrize(
        "payload",
        [
            f"{2**63}",  # one past the largest id: a 500 (database overflow) before
            f"{10**30}",
            "\u0661\u0662",  # Arabic-Indic digits: str.isdigit says yes, int() reads 12
            "\uff11",  # a fullwidth 1
            "-1",
            "0",
            "01",
            " 1",
            "1\n",
            "p1",
        ],
    )
    async def test_forged_cursors_are_422_in_the_validation_shape(
        self, client: httpx.AsyncClient, payload: str
    ) -> None:
        await create(client, "one paragraph")
        response = await client.get("/paragraphs", params={"cursor": payload})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "cursor"]
        assert "handed out" in error["msg"]

    async def test_the_largest_id_is_a_valid_cursor(self, client: httpx.AsyncClient) -> None:
        created = await create(client, "one paragraph")
        response = await client.get("/paragraphs", params={"cursor": paging.encode(2**63 - 1)})
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["paragraphs"]] == [created["id"]]


class TestUpdateParagraph:
    async def test_replaces_content_and_word_count(self, client: httpx.AsyncClient) -> None:
        body = await create(client, "one two")
        response = await client.put(f"/paragraphs/{body['id']}", json={"content": "one two three four"})
        assert response.status_code == 200
        updated = response.json()
        assert updated["word_count"] == 4
        assert updated["content"] == "one two three four"
        assert updated["created_at"] == body["created_at"]
        assert (await client.get(f"/paragraphs/{body['id']}")).json() == updated

    async def test_missing_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/paragraphs/999", json={"content": "words"})
        assert response.status_code == 404

    async def test_bad_content_is_422_and_changes_nothing(self, client: httpx.AsyncClient) -> None:
        body = await create(client, "original words")
        response = await client.put(f"/paragraphs/{body['id']}", json={"content": "?!"})
        assert response.status_code == 422
        assert (await client.get(f"/paragraphs/{body['id']}")).json() == body


class TestDeleteParagraph:
    async def test_deletes_and_then_404(self, client: httpx.AsyncClient) -> None:
        body = await create(client, "short lived")
        response = await client.delete(f"/paragraphs/{body['id']}")
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(f"/paragraphs/{body['id']}")).status_code == 404
        assert (await client.delete(f"/paragraphs/{body['id']}")).status_code == 404

    async def test_ids_are_not_reused_after_delete(self, client: httpx.AsyncClient) -> None:
        first = await create(client, "first")
        await client.delete(f"/paragraphs/{first['id']}")
        second = await create(client, "second")
        assert second["id"] != first["id"]


class TestFetchOffline:
    async def test_stores_a_generated_paragraph_of_50_sentences(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/fetch")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["source"] == "offline"
        assert body["content"].count(".") == 50
        assert body["word_count"] == len(text.words(body["content"]))
        assert (await client.get(f"/paragraphs/{body['id']}")).json() == body
        assert response.headers["Location"] == f"/paragraphs/{body['id']}"
