"""One pure-ASGI middleware for what every request leaves behind: its id, its access log line, its metrics.

It replaces three layers (asgi-correlation-id's middleware, our access log, the Prometheus
instrumentator's middleware): each wrapped `send`, read the clock and looked at the response's
headers again, and the instrumentator matched the path against every route a second time and built a
Request and a Response per request (bench/RESULTS.md, "hot path"). Here one wrapper does it all, and
the route template is read from the scope the router already filled in.

- Request id: an incoming `X-Request-ID` is kept if it is a UUID (32 hex digits, with or without
  dashes: asgi-correlation-id's rule); otherwise, or if there is none, a new one is made. It is sent
  back in the response and set in asgi-correlation-id's `correlation_id` context variable, which the
  logs (logs.py) and the job headers (worker_monitoring.py) read.
- Access log: one line per request (method, path, status, ms, cache: the `X-Cache` header).
- Metrics: `paragraphs_http_requests_total` and `paragraphs_http_request_duration_seconds` by route
  template, method (http_metrics.py) and status; /metrics itself is not counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from uuid import uuid4

import structlog
from asgi_correlation_id import correlation_id
from asgi_correlation_id.middleware import FAILED_VALIDATION_MESSAGE, is_valid_uuid4
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paragraphs.budget import CLIENT_CLOSED_REQUEST
from paragraphs.http_metrics import RequestMetrics, route_label

REQUEST_ID_HEADER = b"x-request-id"
SERVER_ERROR = 500
UNMEASURED_HANDLERS = frozenset({"/metrics"})

access_log = structlog.get_logger("paragraphs.access")
_ACCESS = logging.getLogger("paragraphs.access")
_ids = logging.getLogger("asgi_correlation_id")


def request_id(scope: Scope) -> str:
    """The client's id if it is a valid one, else a new one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            incoming: str = value.decode("latin-1")
            if is_valid_uuid4(incoming):
                return incoming
            made = uuid4().hex
            _ids.warning(FAILED_VALIDATION_MESSAGE, made)
            return made
    return uuid4().hex


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        correlation_id.set(rid)
        id_header = (REQUEST_ID_HEADER, rid.encode("latin-1"))
        root_path = scope.get("root_path", "")
        status = SERVER_ERROR  # what the server answers if the app raises before starting a response
        cache: str | None = None
        answered = False  # the response has started

        async def observed_send(message: Message) -> None:
            nonlocal status, cache, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                headers: list[Any] = list(message.get("headers", ()))  # a copy: a response may reuse its list
                for name, value in headers:
                    if name == b"x-cache":
                        cache = value.decode("latin-1")
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except asyncio.CancelledError:
            # Cancelled before answering (the client left, the server is stopping): nobody got a 500.
            if not answered:
                status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            elapsed_s = time.perf_counter() - started
            handler = route_label(scope, root_path)
            if handler not in UNMEASURED_HANDLERS:
                self.metrics.observe(handler, scope["method"], status, elapsed_s)
            if _ACCESS.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round(elapsed_s * 1000, 2),
                    cache=cache,
                )
