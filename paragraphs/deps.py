"""`Annotated` dependency aliases for routes.

Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` dependency in
its thread pool, which cost ~0.2 ms a request here (half of a cached /dictionary).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from paragraphs.cache import Cache
from paragraphs.db.engine import Database
from paragraphs.errors import Unauthorized
from paragraphs.ratelimit import LimitGroup, too_many
from paragraphs.resources import Resources
from paragraphs.settings import Settings


async def get_resources(request: Request) -> Resources:
    resources = request.state.resources
    assert isinstance(resources, Resources)  # noqa: S101 - set by the lifespan
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_database(resources: ResourcesDep) -> Database:
    return resources.db


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_cache(resources: ResourcesDep) -> Cache:
    return resources.cache


CacheDep = Annotated[Cache, Depends(get_cache)]

_bearer = HTTPBearer(auto_error=False, description="An API key, when PARAGRAPHS_API_KEYS is set.")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def require_api_key(
    resources: ResourcesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> None:
    """Writes need a key when keys are configured; compared as SHA-256 digests in constant time."""
    keys = resources.settings.api_keys
    if not keys:
        return
    offered = bearer.credentials if bearer is not None else header_key
    if offered is None:
        raise Unauthorized("this server requires an API key: send `Authorization: Bearer <key>` or `X-API-Key`")
    digest = _digest(offered)
    # Check every key, so timing does not say which one nearly matched.
    matched = [hmac.compare_digest(digest, _digest(key.get_secret_value())) for key in keys]
    if not any(matched):
        raise Unauthorized("the API key is not valid")


WriteAccess = Depends(require_api_key)


def rate_limit(group: LimitGroup) -> Any:
    """A route dependency spending one request of the client's budget for `group`: 429 when it is spent,
    else the `RateLimit-*` headers on the response."""

    async def spend(request: Request, response: Response, resources: ResourcesDep) -> None:
        decision = await resources.ratelimit.spend(group, request.scope)
        if decision is None:
            return
        if not decision.allowed:
            raise too_many(decision)
        response.headers.update(decision.headers())

    return Depends(spend)


FetchLimit = rate_limit(LimitGroup.FETCH)
WriteLimit = rate_limit(LimitGroup.WRITE)
SearchLimit = rate_limit(LimitGroup.SEARCH)
