"""The error tree: every error we raise on purpose carries its HTTP status and a detail for a person.

AppError
  NotFound (404)                  e.g. corpus.ParagraphNotFound
  Unauthorized (401)              missing or wrong API key
  RateLimited (429)
  UpstreamError (502)             a third party answered badly or not at all
    UpstreamTimeout (504)         ... or not in time
  ServiceUnavailable (503)        our own dependency (database) is not there
    db.failures.DatabaseUnavailable   refused, restarting, connection lost (with Retry-After)
    QueryTooExpensive (503)       a search ran out of its time budget and was cancelled
  PayloadTooLarge (413)           a body larger than any valid request, refused before it is parsed
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

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


class QueryTooExpensive(ServiceUnavailable):
    def __init__(self, detail: str, retry_after_s: int = 1) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class PayloadTooLarge(AppError):
    status_code = 413


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


# Deadlock, serialization failure: still there after `Database.transact` ran the write again.
_CONTENDED_SQLSTATES = frozenset({"40001", "40P01"})


async def _render_database_down(_request: Request, exc: Exception) -> JSONResponse:
    """A lost or refused database connection is the database's state, not a bug: 503, retry later."""
    assert isinstance(exc, DBAPIError)  # noqa: S101 - registered for it only
    detail = "the database is unavailable right now; nothing was changed, try again shortly"
    if getattr(exc.orig, "sqlstate", None) in _CONTENDED_SQLSTATES:
        detail = "too many concurrent writes to the same rows; nothing was changed, try again"
    elif getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled, not explained where it happened
        detail = "the database cancelled the statement; nothing was changed, try again shortly"
    elif not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
        raise exc
    log.warning("database unavailable", error=f"{type(exc.orig).__name__}: {exc.orig}"[:300])
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def _render_pool_timeout(_request: Request, _exc: Exception) -> JSONResponse:
    """Every database connection of this process stayed busy for the pool's timeout: overloaded, 503."""
    log.warning("database pool exhausted")
    return JSONResponse(
        {"detail": "the server is too busy to reach its database right now; nothing was changed, try again shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def _flat(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those of included routers (FastAPI wraps those; ours have no prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flat(included.routes)
        else:
            yield route


_UNPARSABLE_BODY = "There was an error parsing the body"


async def _render_http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's rendering, except that an undecodable body is a 422 like invalid JSON, and that a 405's `Allow` lists every method of the path: Starlette names
    only those of the first route that matched it (`/search` has a GET and a POST route)."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        # FastAPI's words for a body it could not decode (not UTF-8): invalid JSON, like any other (422).
        error = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error: the body is not UTF-8 text"}
        return await _render_validation(request, RequestValidationError([error]))
    if exc.status_code == 405:
        methods = {
            method
            for route in _flat(request.app.routes)
            if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path)
            for method in route.methods
        }
        if methods:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _render_http_error)
    app.add_exception_handler(AppError, _render)
    app.add_exception_handler(RequestValidationError, _render_validation)
    app.add_exception_handler(DBAPIError, _render_database_down)
    app.add_exception_handler(PoolTimeout, _render_pool_timeout)
