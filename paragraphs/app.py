"""create_app(settings): the FastAPI application, its routers, middleware and lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request, Response
from prometheus_fastapi_instrumentator import Instrumentator

from paragraphs import __version__, health
from paragraphs.corpus import router as corpus_router
from paragraphs.dictionary import router as dictionary_router
from paragraphs.errors import install_error_handlers
from paragraphs.resources import open_resources
from paragraphs.search import router as search_router
from paragraphs.settings import Settings

log = structlog.get_logger("paragraphs.access")


async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    log.info(
        "request",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        ms=round((time.perf_counter() - started) * 1000, 2),
        cache=response.headers.get("X-Cache"),
    )
    return response


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        async with open_resources(settings) as resources:
            yield {"resources": resources}

    app = FastAPI(
        title="paragraphs",
        version=__version__,
        summary="Collects paragraphs, searches them word by word, and defines the words the corpus uses most.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(corpus_router.router)
    app.include_router(search_router.router)
    app.include_router(dictionary_router.router)
    app.include_router(health.router)
    app.middleware("http")(_access_log)
    app.add_middleware(CorrelationIdMiddleware)
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics"],
    ).instrument(app, metric_namespace="paragraphs").expose(app, endpoint="/metrics", include_in_schema=False)
    return app
