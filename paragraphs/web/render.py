"""Rendering pages: the templates, and a route class that turns every failure into a page for a person."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from paragraphs.errors import AppError

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def _date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _thousands(value: int) -> str:
    return f"{value:,}"


templates.env.filters["date"] = _date
templates.env.filters["thousands"] = _thousands


def page(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return templates.TemplateResponse(
        request, name, dict(context or {}), status_code=status_code, headers=dict(headers or {})
    )


def error_page(request: Request, status_code: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    titles = {
        401: "Key needed",
        403: "Refused",
        404: "Not found",
        422: "Not valid",
        429: "Too many requests",
        502: "Upstream failed",
        503: "Unavailable",
        504: "Upstream too slow",
    }
    title = titles.get(status_code, "Something went wrong")
    return page(request, "error.html", {"title": title, "detail": detail}, status_code=status_code, headers=headers)


def validation_detail(exc: RequestValidationError) -> str:
    """FastAPI's list of errors as one sentence: `where: what; ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {error.get('msg', 'not valid')}")
    return "; ".join(parts)


async def _database_trouble_page(request: Request, exc: DBAPIError | PoolTimeout) -> Response:
    """The JSON API's own decision (status, detail, Retry-After; or re-raised when it is a bug), as a page."""
    handler = request.app.exception_handlers[DBAPIError if isinstance(exc, DBAPIError) else PoolTimeout]
    answer = await handler(request, exc)
    detail = json.loads(bytes(answer.body))["detail"]
    retry_after = answer.headers.get("retry-after")
    return error_page(request, answer.status_code, detail, {"Retry-After": retry_after} if retry_after else None)


class PageRoute(APIRoute):
    """A route whose errors are pages: our AppErrors with their status and detail, invalid path or query
    values as 422, database trouble as the JSON API answers it (503 with Retry-After)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as exc:
                return error_page(request, exc.status_code, exc.detail, exc.headers)
            except RequestValidationError as exc:
                return error_page(request, 422, validation_detail(exc))
            except (DBAPIError, PoolTimeout) as exc:
                return await _database_trouble_page(request, exc)

        return handle
