"""create_app(settings): the FastAPI application, its routers, middleware and lifespan."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paragraphs import __version__, health, serving
from paragraphs.budget import RequestBudget
from paragraphs.corpus import router as corpus_router
from paragraphs.dictionary import router as dictionary_router
from paragraphs.errors import install_error_handlers
from paragraphs.logs import configure_logging
from paragraphs.metrics_labels import request_metrics
from paragraphs.openapi import install_openapi, operation_id
from paragraphs.resources import open_resources
from paragraphs.search import router as search_router
from paragraphs.settings import Settings
from paragraphs.startup import load_settings
from paragraphs.web.router import install_web

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

log = structlog.get_logger("paragraphs.access")
_ACCESS = logging.getLogger("paragraphs.access")


class AccessLog:
    """One log line per request, as plain ASGI middleware (BaseHTTPMiddleware costs ~0.3 ms a request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen: dict[str, object] = {}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                seen["cache"] = next((v.decode() for k, v in message.get("headers", []) if k == b"x-cache"), None)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if _ACCESS.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=seen.get("status", 500),
                    ms=round((time.perf_counter() - started) * 1000, 2),
                    cache=seen.get("cache"),
                )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        async with open_resources(settings) as resources:
            yield {"resources": resources}
        serving.forget_this_process()

    app = FastAPI(
        title="paragraphs",
        version=__version__,
        summary="Collects paragraphs, searches them word by word, and defines the words the corpus uses most.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served from local files by install_web: no CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(corpus_router.router)
    app.include_router(search_router.router)
    app.include_router(dictionary_router.router)
    app.include_router(health.router)
    install_web(app)
    install_openapi(app, has_api_keys=bool(settings.api_keys))
    app.add_middleware(RequestBudget)
    app.add_middleware(AccessLog)
    app.add_middleware(CorrelationIdMiddleware)
    # Two metrics, not the default five: request sizes and the high-resolution latency histogram
    # cost ~15% of the throughput of a cached /dictionary (bench/RESULTS.md).
    instrumentator = Instrumentator(should_group_status_codes=False, excluded_handlers=["/metrics"])
    instrumentator.add(*request_metrics(LATENCY_BUCKETS_S))
    instrumentator.instrument(app).expose(app, endpoint="/metrics", include_in_schema=False)
    return app


def factory() -> FastAPI:
    """The app from the environment's settings: what each `paragraphs serve` process runs
    (`uvicorn --factory paragraphs.app:factory` does the same)."""
    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings)
