"""The reading pages (search, paragraphs, words) and the offline API docs, in-process, on both engines."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from paragraphs.web.chart import BAR_AREA
from paragraphs.web.pages import RESULTS_PER_PAGE

HTML = "text/html; charset=utf-8"


async def create(client: httpx.AsyncClient, content: str) -> int:
    response = await client.post("/paragraphs", json={"content": content})
    assert response.status_code == 201, response.text
    paragraph_id = response.json()["id"]
    assert isinstance(paragraph_id, int)
    return paragraph_id


def links(html: str, rel: str) -> list[str]:
    return [match.replace("&amp;", "&") for match in re.findall(rf'<a href="([^"]+)" rel="{rel}">', html)]


def hit_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<h3 id="hit-(\d+)">', html)]


class TestSearchPage:
    async def test_without_words_it_is_the_form_with_and_and_newest_chosen(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"] == HTML
        html = response.text
        assert '<label for="words">Words</label>' in html
        assert 'name="operator" value="and" checked' in html
        assert 'name="order" value="newest" checked' in html
        assert "Results" not in html

    async def test_results_have_the_total_and_highlighted_matches(self, client: httpx.AsyncClient) -> None:
        first = await create(client, "The lantern is lit. A <b>bold</b> lantern.")
        await create(client, "Nothing to see here.")
        second = await create(client, "Lantern light.")
        html = (await client.get("/", params={"words": "LANTERN", "operator": "and"})).text
        assert "<strong>2</strong> paragraphs match" in html
        assert hit_ids(html) == [second, first]
        assert "<mark>lantern</mark>" in html
        assert "<mark>Lantern</mark> light." in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the paragraph's own markup is text, not HTML
        assert 'value="LANTERN"' in html

    async def test_and_needs_every_word_or_needs_one(self, client: httpx.AsyncClient) -> None:
        both = await create(client, "apple pie")
        apple = await create(client, "apple tart")
        assert hit_ids((await client.get("/", params={"words": "apple pie", "operator": "and"})).text) == [both]
        html = (await client.get("/", params={"words": "apple, pie", "operator": "or"})).text
        assert hit_ids(html) == [apple, both]
        assert 'name="operator" value="or" checked' in html

    async def test_relevance_order_puts_the_densest_match_first(self, client: httpx.AsyncClient) -> None:
        dense = await create(client, "pear pear pear pear pear and pear")
        sparse = await create(client, "one pear among many other words in a long sentence about fruit and more")
        html = (await client.get("/", params={"words": "pear", "order": "relevance"})).text
        assert hit_ids(html) == [dense, sparse]
        assert "most relevant first" in html

    async def test_pages_keep_the_query_in_the_url(self, client: httpx.AsyncClient) -> None:
        ids = [await create(client, f"harbor number {n}") for n in range(RESULTS_PER_PAGE + 5)]
        first = (await client.get("/", params={"words": "harbor", "operator": "or"})).text
        assert f"<strong>{len(ids)}</strong> paragraphs match" in first
        assert hit_ids(first) == ids[::-1][:RESULTS_PER_PAGE]
        assert links(first, "prev") == []
        [next_url] = links(first, "next")
        assert parse_qs(urlsplit(next_url).query) == {
            "words": ["harbor"],
            "operator": ["or"],
            "order": ["newest"],
            "page": ["2"],
        }
        second = (await client.get(next_url)).text
        assert hit_ids(second) == ids[::-1][RESULTS_PER_PAGE:]
        assert "Page 2 of 2" in second
        assert links(second, "next") == []
        [previous_url] = links(second, "prev")
        assert hit_ids((await client.get(previous_url)).text) == ids[::-1][:RESULTS_PER_PAGE]

    async def test_no_results_say_so(self, client: httpx.AsyncClient) -> None:
        await create(client, "a lantern")
        response = await client.get("/", params={"words": "unicorn lantern"})
        assert response.status_code == 200
        assert "No paragraph holds all of the words: <strong>lantern, unicorn</strong>" in response.text

    async def test_a_page_past_the_end_says_so(self, client: httpx.AsyncClient) -> None:
        await create(client, "a lantern")
        html = (await client.get("/", params={"words": "lantern", "page": "9"})).text
        assert "past the last page (1)" in html

    @pytest.mark.parametrize(
        ("words", "message"),
        [
            ("well-known", "&#39;well-known&#39; is not exactly one word (it holds 2)"),
            (" ".join(["w"] * 51), "words: List should have at most 50 items"),
        ],
    )
    async def test_invalid_words_get_the_api_message(self, client: httpx.AsyncClient, words: str, message: str) -> None:
        response = await client.get("/", params={"words": words})
        assert response.status_code == 422
        assert 'role="alert"' in response.text
        assert message in response.text
        api = await client.get("/search", params={"words": words.replace(" ", ","), "operator": "and"})
        assert api.status_code == 422
        assert unescape(message).removeprefix("words: ") in api.text  # the page says what the API says

    async def test_an_unknown_operator_is_named(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", params={"words": "one", "operator": "xor"})
        assert response.status_code == 422
        assert "operator: Input should be &#39;and&#39; or &#39;or&#39;" in response.text


class TestParagraphPages:
    async def test_newest_first_with_a_link_to_older_ones(self, client: httpx.AsyncClient) -> None:
        ids = [await create(client, f"Paragraph text number {n}.") for n in range(25)]
        html = (await client.get("/browse")).text
        shown = [int(found) for found in re.findall(r'<h2 id="p-(\d+)">', html)]
        assert shown == ids[::-1][:20]
        [older] = links(html, "next")
        rest = (await client.get(older)).text
        assert [int(found) for found in re.findall(r'<h2 id="p-(\d+)">', rest)] == ids[::-1][20:]
        assert links(rest, "next") == []
        assert '<a href="/browse">Newest paragraphs</a>' in rest

    async def test_empty_corpus_invites_to_add(self, client: httpx.AsyncClient) -> None:
        assert "No paragraphs yet." in (await client.get("/browse")).text

    async def test_one_paragraph_shows_its_words_count_source_and_date(self, client: httpx.AsyncClient) -> None:
        paragraph_id = await create(client, "Don't panic: the zeitgeist's well-known answer is 42.")
        body = (await client.get(f"/paragraphs/{paragraph_id}")).json()
        html = (await client.get(f"/browse/{paragraph_id}")).text
        assert "<dt>Words</dt><dd>9</dd>" in html
        assert "<dt>Source</dt><dd>user</dd>" in html
        assert f'<time datetime="{body["created_at"].replace("Z", "+00:00")}">' in html
        assert "Don&#39;t panic: the zeitgeist&#39;s well-known answer is 42." in html
        assert f'href="/browse/{paragraph_id}/edit"' in html
        assert f'href="/browse/{paragraph_id}/delete"' in html

    @pytest.mark.parametrize(
        ("path", "status", "message"),
        [
            ("/browse/999999", 404, "paragraph 999999 does not exist"),
            ("/browse/0", 422, "paragraph_id: Input should be greater than or equal to 1"),
            ("/browse/abc", 422, "paragraph_id: Input should be a valid integer"),
            ("/browse?cursor=nonsense", 422, "cursor is not one this service handed out"),
        ],
    )
    async def test_errors_are_pages_with_the_reason(
        self, client: httpx.AsyncClient, path: str, status: int, message: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"] == HTML
        assert message in response.text
        assert 'role="alert"' in response.text


class TestWordsPage:
    async def test_chart_definitions_and_corpus_size(self, client: httpx.AsyncClient) -> None:
        await create(client, "the the the zyzzyva zyzzyva cat")
        await create(client, "The zyzzyva.")
        deleted = await create(client, "Gone soon.")
        assert (await client.delete(f"/paragraphs/{deleted}")).status_code == 204
        html = (await client.get("/words", params={"limit": 3})).text
        assert "<strong>2</strong> paragraphs" in html
        assert "<strong>8</strong> words, <strong>3</strong> distinct words" in html
        bars = re.findall(
            r'<text x="\d+" y="\d+" text-anchor="end">(\w+)</text>\s*<rect x="\d+" y="\d+" width="(\d+)"', html
        )
        assert [word for word, _ in bars] == ["the", "zyzzyva", "cat"]
        # Bars in proportion to the counts 4, 3, 1, the longest across the whole bar area.
        assert [int(width) for _, width in bars] == [BAR_AREA, BAR_AREA * 3 // 4, BAR_AREA // 4]
        assert "Bar chart: the 3 most frequent words by count; the 4; zyzzyva 3; cat 1" in html
        # The offline dictionary knows `the`; nobody defines `zyzzyva` offline.
        the = html[html.index('<h3 id="w-1">') : html.index('<h3 id="w-2">')]
        assert "Definitions from the built-in offline dictionary." in the
        zyzzyva = html[html.index('<h3 id="w-2">') : html.index('<h3 id="w-3">')]
        assert "No definitions known for this word." in zyzzyva

    async def test_ten_words_by_default_and_at_most_100(self, client: httpx.AsyncClient) -> None:
        await create(client, " ".join(f"word{n}" for n in range(15)))
        html = (await client.get("/words")).text
        assert len(re.findall(r'<g class="bar">', html)) == 10
        assert 'name="limit" type="number" min="1" max="100" value="10"' in html
        too_many = await client.get("/words", params={"limit": 101})
        assert too_many.status_code == 422
        assert "limit: Input should be less than or equal to 100" in too_many.text

    async def test_an_empty_corpus_says_so(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/words")).text
        assert "No words yet" in html
        assert "<strong>0</strong> paragraphs" in html


class TestApiDocs:
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    async def test_docs_load_only_local_files(self, client: httpx.AsyncClient, path: str) -> None:
        html = (await client.get(path)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets
        for asset in assets:
            assert asset.startswith("/"), asset
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100
        assert "fonts.googleapis" not in html
        if path == "/redoc":  # its bundle's decorative logo from a CDN is blocked
            assert (await client.get(path)).headers["content-security-policy"] == "img-src 'self' data: blob:"
        assert "cdn" not in html.lower()
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "paragraphs"

    async def test_pages_stay_out_of_the_openapi(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not any(path in paths for path in ("/", "/browse", "/words", "/add", "/docs"))
