"""create_app(settings): the FastAPI application, its routers, middleware and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from paragraphs import __version__, health, serving, warmup
from paragraphs.budget import RequestBudget
from paragraphs.cached_reads import CachedReads
from paragraphs.corpus import router as corpus_router
from paragraphs.dictionary import router as dictionary_router
from paragraphs.errors import install_error_handlers
from paragraphs.http_metrics import install_metrics_page, request_metrics
from paragraphs.logs import configure_logging
from paragraphs.openapi import install_openapi, operation_id
from paragraphs.request_observer import RequestObserver
from paragraphs.resources import open_resources
from paragraphs.search import router as search_router
from paragraphs.settings import Settings
from paragraphs.startup import load_settings
from paragraphs.web.router import install_web


def create_app(settings: Settings, *, warm: bool = False) -> FastAPI:
    """`warm`: a `paragraphs serve` process, which readies itself before its first request (warmup.py)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        async with open_resources(settings) as resources:
            if warm:
                await warmup.prepare_process(resources.db)
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
    install_metrics_page(app)
    # Last added is outermost: the observer sees what the cached reads and the budget answer (413,
    # 499) as the client does; a cached answer needs no body read and no disconnect watch.
    app.add_middleware(RequestBudget)
    app.add_middleware(CachedReads)
    app.add_middleware(RequestObserver, metrics=request_metrics())
    return app


def factory() -> FastAPI:
    """The app from the environment's settings: what each `paragraphs serve` process runs
    (`uvicorn --factory paragraphs.app:factory` does the same)."""
    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings, warm=True)
