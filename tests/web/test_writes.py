"""The writing pages: add, fetch, edit, delete and the API-key form, in-process, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from paragraphs.settings import Settings
from paragraphs.web.keys import COOKIE
from tests.apps import app_client
from tests.fixtures.fake_dictionary import FakeDictionary
from tests.fixtures.fake_metaphorpsum import FakeMetaphorpsum, Mode


async def stored(client: httpx.AsyncClient) -> list[dict[str, object]]:
    paragraphs = (await client.get("/paragraphs", params={"limit": 1000})).json()["paragraphs"]
    assert isinstance(paragraphs, list)
    return paragraphs


def created_id(response: httpx.Response, done: str) -> int:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/browse/")
    assert location.endswith(f"?done={done}")
    return int(location.removeprefix("/browse/").split("?")[0])


class TestAdd:
    async def test_adds_a_paragraph_and_shows_it(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/add", data={"content": "First line.\r\n\r\nSecond line."})
        paragraph_id = created_id(response, "added")
        page = await client.get(response.headers["location"])
        assert "Your paragraph was added." in page.text
        assert "<p>First line.</p><p>Second line.</p>" in page.text
        [paragraph] = await stored(client)
        assert paragraph["id"] == paragraph_id
        assert paragraph["content"] == "First line.\n\nSecond line."  # the browser's CRLF, back to what was typed
        assert paragraph["source"] == "user"
        search = (await client.get("/search", params={"words": "second", "operator": "and"})).json()
        assert [hit["id"] for hit in search["paragraphs"]] == [paragraph_id]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("", "String should have at least 1 character"),
            ("... !!! ---", "must contain at least one word"),
            ("x" * 100_001, "String should have at most 100000 characters"),
        ],
    )
    async def test_invalid_text_comes_back_with_the_reason_and_stores_nothing(
        self, client: httpx.AsyncClient, content: str, message: str
    ) -> None:
        response = await client.post("/add", data={"content": content})
        assert response.status_code == 422
        assert message in response.text
        assert 'role="alert"' in response.text
        if content:
            assert content[:50] in response.text  # what was typed is still in the text area
        assert await stored(client) == []

    async def test_a_form_from_another_site_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/add", data={"content": "sneaky"}, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
        assert "sent from another site" in response.text
        assert await stored(client) == []
        same_site = await client.post("/add", data={"content": "fine"}, headers={"Origin": "http://paragraphs.test"})
        assert same_site.status_code == 303


class TestEditAndDelete:
    async def test_edit_replaces_the_text_and_the_search_follows(self, client: httpx.AsyncClient) -> None:
        paragraph_id = created_id(await client.post("/add", data={"content": "old words"}), "added")
        form = await client.get(f"/browse/{paragraph_id}/edit")
        assert ">old words</textarea>" in form.text
        response = await client.post(f"/browse/{paragraph_id}/edit", data={"content": "new words here"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/browse/{paragraph_id}?done=updated"
        assert "The paragraph was saved." in (await client.get(response.headers["location"])).text
        [paragraph] = await stored(client)
        assert paragraph["content"] == "new words here"
        assert paragraph["word_count"] == 3
        assert (await client.get("/search", params={"words": "old", "operator": "and"})).json()["total_count"] == 0

    async def test_edit_with_invalid_text_keeps_the_old_text(self, client: httpx.AsyncClient) -> None:
        paragraph_id = created_id(await client.post("/add", data={"content": "kept words"}), "added")
        response = await client.post(f"/browse/{paragraph_id}/edit", data={"content": "?!"})
        assert response.status_code == 422
        assert "must contain at least one word" in response.text
        assert [p["content"] for p in await stored(client)] == ["kept words"]

    async def test_delete_asks_first_then_deletes(self, client: httpx.AsyncClient) -> None:
        paragraph_id = created_id(await client.post("/add", data={"content": "short lived"}), "added")
        question = await client.get(f"/browse/{paragraph_id}/delete")
        assert f"Delete paragraph {paragraph_id}?" in question.text
        assert f"Yes, delete paragraph {paragraph_id}" in question.text
        assert len(await stored(client)) == 1  # asking deletes nothing
        response = await client.post(f"/browse/{paragraph_id}/delete")
        assert response.status_code == 303
        assert response.headers["location"] == f"/browse?deleted={paragraph_id}"
        assert f"Paragraph {paragraph_id} was deleted." in (await client.get(response.headers["location"])).text
        assert await stored(client) == []
        gone = await client.post(f"/browse/{paragraph_id}/delete")
        assert gone.status_code == 404
        assert f"paragraph {paragraph_id} does not exist" in gone.text


class TestFetch:
    async def test_the_offline_source_fetches_and_shows_the_paragraph(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/add/fetch")
        paragraph_id = created_id(response, "fetched")
        page = await client.get(response.headers["location"])
        assert "A new paragraph was fetched and stored." in page.text
        [paragraph] = await stored(client)
        assert paragraph["id"] == paragraph_id
        assert paragraph["source"] == "offline"


@pytest.fixture(scope="module")
def metaphorpsum() -> Iterator[FakeMetaphorpsum]:
    fake = FakeMetaphorpsum(seed=5)
    with fake.running():
        yield fake


@pytest.fixture
async def online(
    database_url: str, metaphorpsum: FakeMetaphorpsum, fake_dictionary: FakeDictionary
) -> AsyncIterator[httpx.AsyncClient]:
    metaphorpsum.mode = Mode.OK
    settings = Settings(
        database_url=database_url,
        metaphorpsum_url=metaphorpsum.url,
        dictionary_url=fake_dictionary.url,
        upstream_timeout=1.5,
        _env_file=None,
    )
    async with app_client(settings) as client:
        yield client
    metaphorpsum.mode = Mode.OK


class TestFetchFromMetaphorpsum:
    async def test_fetches_from_the_upstream(self, online: httpx.AsyncClient) -> None:
        created_id(await online.post("/add/fetch"), "fetched")
        [paragraph] = await stored(online)
        assert paragraph["source"] == "metaphorpsum"

    @pytest.mark.parametrize(
        ("mode", "status", "reason"),
        [(Mode.ERROR_500, 502, "metaphorpsum failed, nothing was stored"), (Mode.HANG, 504, "did not answer in time")],
    )
    async def test_a_failing_upstream_gives_the_plain_reason(
        self, online: httpx.AsyncClient, metaphorpsum: FakeMetaphorpsum, mode: Mode, status: int, reason: str
    ) -> None:
        metaphorpsum.mode = mode
        response = await online.post("/add/fetch")
        assert response.status_code == status
        assert "Nothing was fetched:" in response.text
        assert reason in response.text
        assert '<button type="submit">Fetch a paragraph</button>' in response.text  # try again from there
        assert await stored(online) == []


class TestApiKeys:
    async def test_writes_without_a_key_say_so_and_change_nothing(self, guarded: httpx.AsyncClient) -> None:
        form = await guarded.get("/add")
        assert 'href="/key?next=/add"' in form.text
        for path, data in (("/add", {"content": "typed text"}), ("/add/fetch", {})):
            response = await guarded.post(path, data=data)
            assert response.status_code == 401
            assert "This server needs an API key for changes. Nothing was changed" in response.text
        assert "typed text</textarea>" in (await guarded.post("/add", data={"content": "typed text"})).text
        assert await stored(guarded) == []

    async def test_a_wrong_key_is_named_wrong(self, guarded: httpx.AsyncClient) -> None:
        response = await guarded.post("/key", data={"api_key": "nope", "next": "/add"})
        assert response.status_code == 401
        assert "That API key is not valid." in response.text
        assert COOKIE not in response.cookies

    async def test_the_key_is_asked_once_and_kept_for_the_session(self, guarded: httpx.AsyncClient) -> None:
        response = await guarded.post("/key", data={"api_key": "k2", "next": "/add"})
        assert response.status_code == 303
        assert response.headers["location"] == "/add"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "expires" not in cookie.lower()
        assert "max-age" not in cookie.lower()  # a browser-session cookie
        assert "/key?next" not in (await guarded.get("/add")).text
        paragraph_id = created_id(await guarded.post("/add", data={"content": "with a key"}), "added")
        assert (await guarded.post(f"/browse/{paragraph_id}/edit", data={"content": "edited"})).status_code == 303
        assert (await guarded.post(f"/browse/{paragraph_id}/delete")).status_code == 303
        assert "This browser has a valid key" in (await guarded.get("/key")).text

    async def test_a_kept_key_that_became_wrong_is_refused(self, guarded: httpx.AsyncClient) -> None:
        guarded.cookies.set(COOKIE, "revoked")
        response = await guarded.post("/add", data={"content": "text"})
        assert response.status_code == 401
        assert "no longer valid" in response.text
        assert await stored(guarded) == []

    async def test_forget_drops_the_key(self, guarded: httpx.AsyncClient) -> None:
        await guarded.post("/key", data={"api_key": "k1"})
        response = await guarded.post("/key/forget")
        assert response.status_code == 303
        assert (await guarded.post("/add", data={"content": "text"})).status_code == 401

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "javascript:alert(1)"])
    async def test_the_way_back_stays_on_this_site(self, guarded: httpx.AsyncClient, target: str) -> None:
        response = await guarded.post("/key", data={"api_key": "k1", "next": target})
        assert response.headers["location"] == "/"

    async def test_without_keys_the_key_page_says_writes_are_open(self, client: httpx.AsyncClient) -> None:
        assert "does not ask for a key" in (await client.get("/key")).text
