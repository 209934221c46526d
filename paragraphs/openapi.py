"""The OpenAPI document, completed for client generators: what FastAPI cannot know from the routes.

- `operationId` is the route's function name (`search_paragraphs`, `create_paragraph`), not FastAPI's
  `search_paragraphs_search_post`.
- Statuses every operation can answer whatever its route says: `503` (the database is down or a search
  ran out of its budget, with `Retry-After`), `413` where there is a request body (refused before it
  is parsed), `401` where writes need a key.
- API-key security is declared only when this server has keys (`PARAGRAPHS_API_KEYS`): a server whose
  writes are open must not promise a 401 it never answers.
- Headers a client can rely on: `Retry-After` on 429/503, `RateLimit-*` on 429, `X-Cache` on searches,
  `Location` on 201.
- An `example` on every request and response body (openapi_examples.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from paragraphs.openapi_examples import example_for

ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "Requests allowed in the window.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in the window.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the window resets.", "schema": {"type": "integer"}},
}
COMMON: dict[str, dict[str, Any]] = {
    "503": {
        "description": "The database is unavailable, or the search was too expensive and was stopped; retry later.",
        "headers": {"Retry-After": RETRY_AFTER},
        "content": ERROR_BODY,
    },
}
TOO_LARGE = {"description": "The body is larger than any valid request.", "content": ERROR_BODY}
UNAUTHORIZED = {
    "description": "Missing or wrong API key (only when the server has keys).",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "content": ERROR_BODY,
}
X_CACHE = {
    "X-Cache": {"description": "`HIT` when answered from the result cache.", "schema": {"enum": ["HIT", "MISS"]}}
}
LOCATION = {"Location": {"description": "The new paragraph's path.", "schema": {"type": "string"}}}


def install_openapi(app: FastAPI, *, has_api_keys: bool) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            complete(schema, has_api_keys=has_api_keys)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def operation_id(route: APIRoute) -> str:
    """`generate_unique_id_function` of the app: the route's function name."""
    return route.name


def complete(schema: dict[str, Any], *, has_api_keys: bool) -> None:
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _complete_responses(operation, has_api_keys=has_api_keys)
            _add_examples(operation)
            if path == "/search":
                operation["responses"]["200"].setdefault("headers", {}).update(X_CACHE)
    if not has_api_keys:
        schema.get("components", {}).pop("securitySchemes", None)


def _complete_responses(operation: dict[str, Any], *, has_api_keys: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if operation.get("tags") == ["health"]:
        return  # liveness answers whatever the database does; readiness documents its own 503
    for status, response in COMMON.items():
        declared = responses.setdefault(status, {"description": response["description"]})
        declared.setdefault("content", response["content"])
        declared.setdefault("headers", {}).update(response["headers"])
    if "requestBody" in operation:
        responses.setdefault("413", TOO_LARGE)
    if "security" in operation:
        if has_api_keys:
            responses.setdefault("401", UNAUTHORIZED)
        else:
            del operation["security"]
            responses.pop("401", None)
    if "201" in responses:
        responses["201"].setdefault("headers", {}).update(LOCATION)
    if "429" in responses:
        responses["429"].setdefault("headers", {}).update({"Retry-After": RETRY_AFTER, **RATE_LIMIT_HEADERS})


def _add_examples(operation: dict[str, Any]) -> None:
    """An `example` on every body's media type that has none (openapi_examples.py)."""
    bodies = [(None, operation.get("requestBody", {}))]
    bodies += [(status, response) for status, response in operation.get("responses", {}).items()]
    for status, body in bodies:
        for media in body.get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            if "example" in media or "examples" in media or not ref:
                continue
            example = example_for(ref.rsplit("/", 1)[-1], status)
            if example is not None:
                media["example"] = example
