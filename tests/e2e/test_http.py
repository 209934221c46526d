"""The real `paragraphs serve` process over HTTP, with a local metaphorpsum stand-in failing on demand."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from paragraphs import text
from tests.e2e.server import Server, serve
from tests.fixtures.fake_metaphorpsum import FakeMetaphorpsum, Mode

TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def metaphorpsum() -> Iterator[FakeMetaphorpsum]:
    fake = FakeMetaphorpsum(seed=3)
    with fake.running():
        yield fake


@pytest.fixture(scope="module")
def server(metaphorpsum: FakeMetaphorpsum, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The embedded default (a fresh SQLite file), pointed at the stand-in, with a short upstream budget."""
    directory = tmp_path_factory.mktemp("e2e")
    settings = {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}",
        "PARAGRAPHS_METAPHORPSUM_URL": metaphorpsum.url,
        "PARAGRAPHS_UPSTREAM_TIMEOUT": str(TIMEOUT_S),
    }
    with serve(settings, directory) as running:
        yield running


@pytest.fixture
def http(server: Server, metaphorpsum: FakeMetaphorpsum) -> Iterator[httpx.Client]:
    metaphorpsum.mode = Mode.OK
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    metaphorpsum.mode = Mode.OK


def paragraph_count(http: httpx.Client) -> int:
    return len(http.get("/paragraphs", params={"limit": 1000}).json()["paragraphs"])


class TestFetch:
    def test_stores_a_paragraph_of_50_sentences(self, http: httpx.Client) -> None:
        response = http.post("/fetch")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["source"] == "metaphorpsum"
        assert body["content"].count(".") == 50
        assert not body["content"].endswith(" ")
        assert body["word_count"] == len(text.words(body["content"]))
        assert http.get(f"/paragraphs/{body['id']}").json() == body

    def test_retries_a_failing_upstream_and_succeeds(self, http: httpx.Client, metaphorpsum: FakeMetaphorpsum) -> None:
        before = metaphorpsum.requests
        metaphorpsum.fail_next(Mode.ERROR_500, 2)
        response = http.post("/fetch")
        assert response.status_code == 201, response.text
        assert metaphorpsum.requests - before == 3

    @pytest.mark.parametrize(
        ("mode", "status", "detail"),
        [
            (Mode.ERROR_500, 502, "HTTP 500"),
            (Mode.EMPTY, 502, "empty"),
            (Mode.HTML, 502, "HTML"),
            (Mode.GARBAGE, 502, "not"),
            (Mode.REFUSE, 502, "connection failed"),
            (Mode.HANG, 504, "did not answer in time"),
            (Mode.SLOW, 504, "did not answer in time"),
        ],
    )
    def test_upstream_failures_are_clear_and_store_nothing(
        self, http: httpx.Client, metaphorpsum: FakeMetaphorpsum, mode: Mode, status: int, detail: str
    ) -> None:
        # A success between cases keeps the circuit breaker closed: each case meets the real failure.
        assert http.post("/fetch").status_code == 201
        before = paragraph_count(http)
        metaphorpsum.mode = mode
        response = http.post("/fetch")
        assert response.status_code == status, response.text
        assert detail in response.json()["detail"]
        assert "metaphorpsum" in response.json()["detail"]
        metaphorpsum.mode = Mode.OK
        assert paragraph_count(http) == before

    def test_a_dead_upstream_trips_the_breaker_and_fails_fast(
        self, http: httpx.Client, metaphorpsum: FakeMetaphorpsum
    ) -> None:
        metaphorpsum.mode = Mode.ERROR_500
        for _ in range(5):
            assert http.post("/fetch").status_code == 502
        calls = metaphorpsum.requests
        response = http.post("/fetch")
        assert response.status_code == 502
        assert "not calling it again" in response.json()["detail"]
        assert metaphorpsum.requests == calls


class TestService:
    def test_health_readiness_docs_and_metrics(self, http: httpx.Client) -> None:
        assert http.get("/health").json() == {"status": "ok"}
        assert http.head("/health").status_code == http.head("/health/ready").status_code == 200
        ready = http.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"]["status"] == "ok"
        assert http.get("/openapi.json").json()["info"]["title"] == "paragraphs"
        assert http.get("/docs").status_code == 200
        http.get("/paragraphs/999999")
        metrics = http.get("/metrics").text
        assert 'handler="/paragraphs/{paragraph_id}"' in metrics
        assert 'status="404"' in metrics
        assert "paragraphs_upstream_calls_total" in metrics

    def test_crud_and_search_round_trip(self, http: httpx.Client) -> None:
        created = http.post("/paragraphs", json={"content": "Zebras’ stripes aren't paint."})
        assert created.status_code == 201
        paragraph_id = created.json()["id"]
        found = http.post("/search", json={"words": ["aren't"], "operator": "and"}).json()
        assert [p["id"] for p in found["paragraphs"]] == [paragraph_id]
        assert http.delete(f"/paragraphs/{paragraph_id}").status_code == 204
        assert http.post("/search", json={"words": ["aren't"], "operator": "and"}).json()["total_count"] == 0


def test_log_has_request_lines(server: Server) -> None:
    httpx.get(f"{server.url}/health", timeout=5)
    assert "request" in server.log()
