"""Each request's id, access log line and metrics, from the one middleware that observes requests."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send
from structlog.testing import capture_logs

from paragraphs.budget import MAX_BODY_BYTES, RequestBudget
from paragraphs.http_metrics import RequestMetrics
from paragraphs.request_observer import RequestObserver

HEX_ID = re.compile(r"^[0-9a-f]{32}$")

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)


def count(scrape: str, labels: str) -> float:
    match = re.search(rf"^paragraphs_http_requests_total\{{{re.escape(labels)}\}} ([0-9.e+]+)$", scrape, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


class TestRequestId:
    async def test_a_request_without_one_gets_a_new_one(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/health")).headers["X-Request-ID"]
        second = (await client.get("/health")).headers["X-Request-ID"]
        assert HEX_ID.match(first)
        assert HEX_ID.match(second)
        assert first != second

    @pytest.mark.parametrize("given", [uuid.uuid4().hex, str(uuid.uuid4())])
    async def test_a_valid_id_is_kept(self, client: httpx.AsyncClient, given: str) -> None:
        response = await client.get("/health", headers={"X-Request-ID": given})
        assert response.headers.get_list("X-Request-ID") == [given]

    @pytest.mark.parametrize("given", ["abc", "x" * 32, "<script>", ""])
    async def test_an_invalid_id_is_replaced(self, client: httpx.AsyncClient, given: str) -> None:
        response = await client.get("/health", headers={"X-Request-ID": given})
        assert HEX_ID.match(response.headers["X-Request-ID"])


class TestAccessLog:
    async def test_one_line_per_request_with_status_and_cache(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="paragraphs.access")
        params = {"words": "observed", "operator": "and"}
        with capture_logs() as events:
            await client.get("/search", params=params)
            await client.get("/search", params=params)
            await client.get("/paragraphs/999999")
        lines = [event for event in events if event["event"] == "request"]
        assert [(line["method"], line["path"], line["status"], line["cache"]) for line in lines] == [
            ("GET", "/search", 200, "MISS"),
            ("GET", "/search", 200, "HIT"),
            ("GET", "/paragraphs/999999", 404, None),
        ]
        assert all(isinstance(line["ms"], float) and line["ms"] >= 0 for line in lines)


class TestMetrics:
    async def test_routes_mounts_and_answers_before_the_app_are_labelled(self, client: httpx.AsyncClient) -> None:
        before = (await client.get("/metrics")).text
        assert (await client.get("/static/style.css")).status_code == 200
        assert (await client.get("/paragraphs/999999")).status_code == 404
        too_large = json.dumps({"content": "word " * (MAX_BODY_BYTES // 5 + 1)}).encode()
        response = await client.post("/paragraphs", content=too_large, headers={"content-type": "application/json"})
        assert response.status_code == 413
        after = (await client.get("/metrics")).text
        for labels in (
            'handler="/static",method="GET",status="200"',
            'handler="/paragraphs/{paragraph_id}",method="GET",status="404"',
            'handler="/paragraphs",method="POST",status="413"',
        ):
            assert count(after, labels) == count(before, labels) + 1, labels
        assert 'handler="/metrics"' not in after


class Recorded(RequestMetrics):
    """What the observer reports, and nothing registered."""

    def __init__(self) -> None:
        self.observed: list[int] = []
        self.durations: list[float] = []

    def observe(self, handler: str, method: str, status: int, elapsed_s: float) -> None:
        self.observed.append(status)
        self.durations.append(elapsed_s)


class TestCancelledRequests:
    async def test_a_request_cancelled_before_answering_is_counted_499_not_500(self, engine_name: str) -> None:
        """The client left (or the server is stopping) before any answer: nobody was sent a 500."""
        recorded = Recorded()
        observed, durations = recorded.observed, recorded.durations

        async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
            raise asyncio.CancelledError

        async def no_body() -> Message:
            return {"type": "http.request", "body": b""}

        async def sent(message: Message) -> None:
            raise AssertionError(f"nothing may be sent: {message}")

        scope: Scope = {"type": "http", "method": "GET", "path": "/dictionary", "headers": [], "root_path": ""}
        before = time.perf_counter()
        with pytest.raises(asyncio.CancelledError):
            await RequestObserver(cancelled, recorded)(scope, no_body, sent)
        within = time.perf_counter() - before
        assert observed == [499]  # the access log line reads the same status
        assert 0 <= durations[0] <= within  # the request's own duration, measured from its start

    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_a_client_gone_before_its_request_was_read_is_counted_499(
        self, engine_name: str, method: str
    ) -> None:
        """A request waiting in a busy server whose client has left: the server reads `http.disconnect`
        where the body should be. Nothing reaches the app, and it is no 500 (seen at the end of wrk runs)."""
        recorded = Recorded()
        sent: list[Message] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            raise AssertionError("the app must not run")

        async def gone() -> Message:
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope: Scope = {"type": "http", "method": method, "path": "/dictionary", "headers": [], "root_path": ""}
        await RequestObserver(RequestBudget(app), recorded)(scope, gone, send)
        assert recorded.observed == [499]
        assert sent[0]["status"] == 499
