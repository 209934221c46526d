"""The web page in a real browser (headless Chromium) against the real `paragraphs serve` process.

Two servers: an offline one over a seeded corpus (search, paging, words, keyboard, no JavaScript,
phone width, the screenshots), and one pointed at the local metaphorpsum and dictionary stand-ins
(fetching with the upstream up and down).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.browser import chromium, screenshot_dir
from tests.e2e.server import Server, run_cli, serve
from tests.fixtures.fake_dictionary import FakeDictionary
from tests.fixtures.fake_metaphorpsum import FakeMetaphorpsum, Mode

pytestmark = pytest.mark.e2e

SEED_PARAGRAPHS = 120
# Words of the offline generator's vocabulary: in some of the seeded paragraphs (more than a page's worth together).
SEARCH_WORDS = "mallard ruler"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("browser-offline")
    settings = {"PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}", "PARAGRAPHS_OFFLINE": "true"}
    seeded = run_cli(["seed", "--count", str(SEED_PARAGRAPHS), "--seed", "7"], settings)
    assert seeded.returncode == 0, seeded.stderr
    with serve(settings, directory) as running:
        yield running


@pytest.fixture(scope="module")
def metaphorpsum() -> Iterator[FakeMetaphorpsum]:
    fake = FakeMetaphorpsum(seed=11)
    with fake.running():
        yield fake


@pytest.fixture(scope="module")
def online_server(
    tmp_path_factory: pytest.TempPathFactory, metaphorpsum: FakeMetaphorpsum, fake_dictionary_server: FakeDictionary
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("browser-online")
    settings = {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}",
        "PARAGRAPHS_METAPHORPSUM_URL": metaphorpsum.url,
        "PARAGRAPHS_DICTIONARY_URL": fake_dictionary_server.url,
        "PARAGRAPHS_UPSTREAM_TIMEOUT": "1.5",
    }
    with serve(settings, directory) as running:
        yield running


def offline_only(context: BrowserContext, server: Server) -> list[str]:
    """Abort every request that leaves the server (a CDN, fonts): the page must work without them."""
    outside: list[str] = []

    def route(route: Route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return outside


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    with browser.new_context(viewport={"width": 1200, "height": 900}) as opened:
        opened.set_default_timeout(TIMEOUT_MS)
        yield opened


@pytest.fixture
def page(context: BrowserContext, offline_server: Server) -> Iterator[Page]:
    outside = offline_only(context, offline_server)
    opened = context.new_page()
    yield opened
    assert outside == [], f"the page asked for outside resources: {outside}"


def shown_ids(page: Page) -> list[int]:
    return [int(heading.removeprefix("Paragraph ")) for heading in page.locator("ol.hits h3").all_inner_texts()]


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


class TestSearch:
    def test_search_and_page_through_results(self, page: Page, offline_server: Server, tmp_path: Path) -> None:
        page.goto(offline_server.url + "/")
        page.get_by_role("searchbox", name="Words").fill(SEARCH_WORDS)
        page.get_by_role("radio", name="any of the words").check()
        page.get_by_role("button", name="Search").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("paragraphs match any of: mallard, ruler")
        found = re.search(r"([\d,]+) paragraphs match", status.inner_text())
        assert found is not None
        assert int(found.group(1).replace(",", "")) > 20
        expect(page.locator("ol.hits mark").first).to_be_visible()
        first_page = shown_ids(page)
        assert len(first_page) == 20
        assert first_page == sorted(first_page, reverse=True)  # newest first
        assert query_of(page) == {"words": [SEARCH_WORDS], "operator": ["or"], "order": ["newest"]}
        page.screenshot(path=screenshot_dir(tmp_path) / "search-results.png")

        page.get_by_role("link", name="Next page").click()
        expect(page.get_by_text("Page 2 of")).to_be_visible()
        assert query_of(page)["page"] == ["2"]
        second_page = shown_ids(page)
        assert second_page
        assert max(second_page) < min(first_page)

        page.go_back()
        expect(page.get_by_text("Page 1 of")).to_be_visible()
        assert shown_ids(page) == first_page
        expect(page.get_by_role("searchbox", name="Words")).to_have_value(SEARCH_WORDS)

    def test_a_shared_link_opens_the_same_results(self, browser: Browser, page: Page, offline_server: Server) -> None:
        link = f"{offline_server.url}/?words=mallard+ruler&operator=or&order=newest&page=2"
        page.goto(link)
        expected = shown_ids(page)
        with browser.new_context() as other:  # someone else opens the link
            other_page = other.new_page()
            other_page.goto(link)
            assert shown_ids(other_page) == expected
            expect(other_page.get_by_role("radio", name="any of the words")).to_be_checked()
            expect(other_page.get_by_text("Page 2 of")).to_be_visible()

    def test_relevance_order_and_no_results_and_invalid_words(self, page: Page, offline_server: Server) -> None:
        page.goto(offline_server.url + "/")
        page.get_by_role("searchbox", name="Words").fill("mallard")
        page.get_by_role("radio", name="most relevant first").check()
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("status")).to_contain_text("most relevant first")
        page.get_by_role("searchbox", name="Words").fill("zzzyzzyva")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("status")).to_contain_text("No paragraph holds all of the words: zzzyzzyva")
        page.get_by_role("searchbox", name="Words").fill("well-known")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("alert")).to_contain_text("'well-known' is not exactly one word")

    def test_keyboard_only(self, page: Page, offline_server: Server) -> None:
        page.goto(offline_server.url + "/browse")  # a page without autofocus: start from the top
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("searchbox", name="Words")).to_be_focused()  # the search page focuses its box
        page.keyboard.type("mallard")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("match all of: mallard")
        first_result = page.locator("ol.hits h3 a").first
        for _ in range(30):  # Tab along until the first result's link
            page.keyboard.press("Tab")
            if first_result.evaluate("element => element === document.activeElement"):
                break
        expect(first_result).to_be_focused()
        outline = first_result.evaluate("element => getComputedStyle(element).outlineStyle")
        assert outline == "solid"  # focus is visible
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Paragraph ")


class TestReadAndWrite:
    def test_add_edit_and_delete(self, page: Page, offline_server: Server) -> None:
        page.goto(offline_server.url + "/")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Add").click()
        page.get_by_role("textbox", name="Text").fill("A quokka sat on the harbour wall.")
        page.get_by_role("button", name="Add paragraph").click()
        expect(page.get_by_role("status")).to_have_text("Your paragraph was added.")
        heading = page.get_by_role("heading", level=1).inner_text()
        paragraph_id = heading.removeprefix("Paragraph ")
        expect(page.locator("dl.meta")).to_contain_text("Words7")  # dt and dd, side by side

        page.get_by_role("link", name=f"Edit paragraph {paragraph_id}").click()
        page.get_by_role("textbox", name="Text").fill("A quokka swam.")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status")).to_have_text("The paragraph was saved.")
        expect(page.locator(".content")).to_have_text("A quokka swam.")

        page.goto(offline_server.url + "/?words=quokka")
        expect(page.get_by_role("status")).to_contain_text("1 paragraph matches")
        page.get_by_role("link", name=f"Paragraph {paragraph_id}").click()
        page.get_by_role("link", name=f"Delete paragraph {paragraph_id}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete paragraph {paragraph_id}?")
        page.get_by_role("button", name=f"Yes, delete paragraph {paragraph_id}").click()
        expect(page.get_by_role("status")).to_have_text(f"Paragraph {paragraph_id} was deleted.")
        page.goto(offline_server.url + "/?words=quokka")
        expect(page.get_by_role("status")).to_contain_text("No paragraph holds")

    def test_an_invalid_text_keeps_what_was_typed(self, page: Page, offline_server: Server) -> None:
        page.goto(offline_server.url + "/add")
        page.get_by_role("textbox", name="Text").fill("?! ...")
        page.get_by_role("button", name="Add paragraph").click()
        expect(page.get_by_role("alert")).to_contain_text("must contain at least one word")
        expect(page.get_by_role("textbox", name="Text")).to_have_value("?! ...")

    def test_words_chart_and_definitions(self, page: Page, offline_server: Server, tmp_path: Path) -> None:
        page.goto(offline_server.url + "/")
        page.get_by_role("link", name="Words", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(f"The corpus holds {SEED_PARAGRAPHS} paragraphs")
        chart = page.get_by_role("img", name=re.compile("Bar chart: the 10 most frequent words"))
        expect(chart).to_be_visible()
        assert chart.locator("rect").count() == 10
        widths = [float(w) for w in chart.locator("rect").evaluate_all("bars => bars.map(b => b.getBBox().width)")]
        assert widths == sorted(widths, reverse=True)
        words = page.locator("ol.words > li")
        expect(words).to_have_count(10)
        expect(words.first).to_contain_text("Definitions from the built-in offline dictionary.")
        page.screenshot(path=screenshot_dir(tmp_path) / "words-chart.png")

        page.get_by_role("spinbutton", name="How many words").fill("100")
        page.get_by_role("button", name="Show words").click()
        expect(page.locator("ol.words > li")).to_have_count(100)
        expect(page.get_by_text("No definitions known for this word.").first).to_be_visible()

    def test_api_docs_render_offline(self, page: Page, offline_server: Server) -> None:
        page.goto(offline_server.url + "/docs")
        expect(page.locator(".opblock-summary-path", has_text="/fetch").first).to_be_visible()
        page.goto(offline_server.url + "/redoc")
        expect(page.get_by_text("Fetch one paragraph of 50 sentences").first).to_be_attached()


class TestWithoutJavaScript:
    def test_read_search_page_and_add(self, browser: Browser, offline_server: Server) -> None:
        with browser.new_context(java_script_enabled=False) as no_js:
            no_js.set_default_timeout(TIMEOUT_MS)
            page = no_js.new_page()
            page.goto(offline_server.url + "/")
            page.get_by_role("searchbox", name="Words").fill(SEARCH_WORDS)
            page.get_by_role("radio", name="any of the words").check()
            page.get_by_role("button", name="Search").click()
            expect(page.get_by_role("status")).to_contain_text("paragraphs match any of")
            page.get_by_role("link", name="Next page").click()
            expect(page.get_by_text("Page 2 of")).to_be_visible()
            page.locator("ol.hits h3 a").first.click()
            expect(page.locator("dl.meta")).to_contain_text("Source")
            page.goto(offline_server.url + "/browse")
            page.get_by_role("link", name="Older paragraphs").click()
            assert "cursor=" in page.url
            page.goto(offline_server.url + "/add")
            page.get_by_role("textbox", name="Text").fill("Written without JavaScript.")
            page.get_by_role("button", name="Add paragraph").click()
            expect(page.get_by_role("status")).to_have_text("Your paragraph was added.")
            page.goto(offline_server.url + "/words")
            expect(page.get_by_role("img", name=re.compile("Bar chart"))).to_be_visible()


class TestPhone:
    def test_fits_a_phone_screen(self, browser: Browser, offline_server: Server, tmp_path: Path) -> None:
        with browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as phone:
            page = phone.new_page()
            page.goto(f"{offline_server.url}/?words=mallard&operator=and&order=newest")
            expect(page.get_by_role("status")).to_contain_text("match all of: mallard")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            search_button = page.get_by_role("button", name="Search").bounding_box()
            assert search_button is not None
            assert search_button["width"] > 300
            page.screenshot(path=screenshot_dir(tmp_path) / "phone-search.png")
            page.goto(offline_server.url + "/words")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


class TestFetch:
    def test_fetch_with_the_upstream_up_and_down(
        self, browser: Browser, online_server: Server, metaphorpsum: FakeMetaphorpsum
    ) -> None:
        with browser.new_context() as opened:
            opened.set_default_timeout(TIMEOUT_MS)
            page = opened.new_page()
            metaphorpsum.mode = Mode.OK
            page.goto(online_server.url + "/add")
            page.get_by_role("button", name="Fetch a paragraph").click()
            expect(page.get_by_role("status")).to_have_text("A new paragraph was fetched and stored.")
            expect(page.locator("dl.meta")).to_contain_text("metaphorpsum")
            try:
                for mode, reason in ((Mode.ERROR_500, "metaphorpsum failed"), (Mode.HANG, "did not answer in time")):
                    metaphorpsum.mode = mode
                    page.goto(online_server.url + "/add")
                    page.get_by_role("button", name="Fetch a paragraph").click()
                    alert = page.get_by_role("alert")
                    expect(alert).to_contain_text("Nothing was fetched:")
                    expect(alert).to_contain_text(reason)
                    expect(page.get_by_role("button", name="Fetch a paragraph")).to_be_visible()
            finally:
                metaphorpsum.mode = Mode.OK
            page.goto(online_server.url + "/browse")
            expect(page.locator("ol.paragraphs > li")).to_have_count(1)


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("browser-keys")
    settings = {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}",
        "PARAGRAPHS_OFFLINE": "true",
        "PARAGRAPHS_API_KEYS": "first-key,s3cret",
    }
    with serve(settings, directory) as running:
        yield running


class TestApiKeys:
    def test_the_key_is_asked_once_per_browser_session(self, browser: Browser, guarded_server: Server) -> None:
        with browser.new_context() as session:
            session.set_default_timeout(TIMEOUT_MS)
            page = session.new_page()
            page.goto(guarded_server.url + "/add")
            page.get_by_role("textbox", name="Text").fill("Guarded words.")
            page.get_by_role("button", name="Add paragraph").click()
            expect(page.get_by_role("alert")).to_contain_text("This server needs an API key for changes")
            expect(page.get_by_role("textbox", name="Text")).to_have_value("Guarded words.")

            page.get_by_role("link", name="Type your key once").click()
            page.get_by_label("API key").fill("wrong")
            page.get_by_role("button", name="Use this key").click()
            expect(page.get_by_role("alert")).to_contain_text("That API key is not valid.")
            page.get_by_label("API key").fill("s3cret")
            page.get_by_role("button", name="Use this key").click()
            assert page.url == guarded_server.url + "/add"  # back where the key was asked for

            page.get_by_role("textbox", name="Text").fill("Guarded words.")
            page.get_by_role("button", name="Add paragraph").click()
            expect(page.get_by_role("status")).to_have_text("Your paragraph was added.")
            page.get_by_role("link", name=re.compile("Delete paragraph")).click()
            page.get_by_role("button", name=re.compile("Yes, delete paragraph")).click()
            expect(page.get_by_role("status").filter(has_text="was deleted.")).to_be_visible()

        with browser.new_context() as next_session:  # a new browser session asks again
            page = next_session.new_page()
            page.goto(guarded_server.url + "/add")
            expect(page.get_by_role("link", name="Type your key once")).to_be_visible()


# WCAG's contrast ratio of an element's text colour on the first opaque background behind it.
CONTRAST_JS = """
element => {
  const rgb = value => value.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = [r, g, b].map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  };
  let node = element, background = null;
  while (node && !background) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) background = colour;
    node = node.parentElement;
  }
  const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background || [255, 255, 255])];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


class TestContrast:
    @pytest.mark.parametrize(
        ("path", "selectors"),
        [
            (
                "/?words=mallard+zzzyzzyva&operator=or",
                ["h1", "label", ".help", "nav a", "button", "mark", ".small", "a"],
            ),
            ("/?words=well-known", [".alert li", "legend"]),
            ("/words", [".status", "figcaption", ".pos", ".phonetic", "footer p"]),
            ("/add", ["textarea", "button"]),
        ],
    )
    def test_text_has_at_least_4_5_to_1(
        self, page: Page, offline_server: Server, path: str, selectors: list[str]
    ) -> None:
        page.goto(offline_server.url + path)
        for selector in selectors:
            element = page.locator(selector).first
            expect(element).to_be_attached()
            ratio = element.evaluate(CONTRAST_JS)
            assert ratio >= 4.5, f"{selector} on {path}: {ratio:.2f}:1"
