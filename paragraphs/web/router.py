"""The web feature's routes and files, added to the app by `install_web(app)`."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from paragraphs.web import docs, pages, writes
from paragraphs.web.render import HERE

router = APIRouter()
router.include_router(pages.router)
router.include_router(writes.router)
router.include_router(docs.router)


def install_web(app: FastAPI) -> None:
    """The pages, /docs and /redoc from local files, and /static. The app must be created with
    `docs_url=None, redoc_url=None` so FastAPI's CDN-loading pages do not take those paths."""
    docs.mount_assets(app)  # before /static: the first matching mount wins
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
