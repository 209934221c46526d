"""The error tree: every error we raise on purpose carries its HTTP status and a detail for a person.

AppError
  NotFound (404)                  e.g. corpus.ParagraphNotFound
  Unauthorized (401)              missing or wrong API key
  RateLimited (429)
  UpstreamError (502)             a third party answered badly or not at all
    UpstreamTimeout (504)         ... or not in time
  ServiceUnavailable (503)        our own dependency (database) is not there
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    detail: str


class AppError(Exception):
    status_code: ClassVar[int] = 500
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(AppError):
    status_code = 404


class Unauthorized(AppError):
    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": "Bearer"}


class RateLimited(AppError):
    status_code = 429

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class UpstreamError(AppError):
    status_code = 502


class UpstreamTimeout(UpstreamError):
    status_code = 504


class ServiceUnavailable(AppError):
    status_code = 503


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors a route can answer with."""
    return {error.status_code: {"description": error.__name__, "model": ErrorBody} for error in errors}


async def _render(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: survives lone surrogates that arrived in a request."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


MAX_ECHOED_INPUT_CHARS = 200


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_ECHOED_INPUT_CHARS:
        return value[:MAX_ECHOED_INPUT_CHARS] + "…"
    return value


async def _render_validation(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape; the echoed `input` is shortened and always encodable."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    errors = [{**error, "input": _short(error.get("input"))} if "input" in error else error for error in exc.errors()]
    return AsciiJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


async def _render_database_down(_request: Request, exc: Exception) -> JSONResponse:
    """A lost or refused database connection is the database's state, not a bug: 503, retry later."""
    assert isinstance(exc, DBAPIError)  # noqa: S101 - registered for it only
    if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
        raise exc
    log.warning("database unavailable", error=f"{type(exc.orig).__name__}: {exc.orig}"[:300])
    return JSONResponse(
        {"detail": "the database is unavailable right now; nothing was changed, try again shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _render)
    app.add_exception_handler(RequestValidationError, _render_validation)
    app.add_exception_handler(DBAPIError, _render_database_down)
