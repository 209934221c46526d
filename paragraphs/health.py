"""Liveness and readiness: GET /health and GET /health/ready."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import Gauge
from pydantic import BaseModel
from sqlalchemy import text

from paragraphs.db.engine import Database
from paragraphs.deps import ResourcesDep
from paragraphs.resources import Resources

router = APIRouter(tags=["health"])

# Readiness must flip within a second when the database goes (docs/operations.md).
CHECK_TIMEOUT_S = 0.8

# Refreshed by every readiness check (the load balancer's or compose's probe): alerts read it. Across
# `serve` workers the most recent check by any live process wins (docs/operations.md, "Gauges").
DEPENDENCY_UP = Gauge(
    "paragraphs_dependency_up",
    "1 when a dependency was ok at the last readiness check, else 0.",
    ["dependency"],
    multiprocess_mode="livemostrecent",
)

State = Literal["ok", "degraded", "down", "disabled"]


class Health(BaseModel):
    status: Literal["ok"]


class DependencyState(BaseModel):
    status: State
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, DependencyState]


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.head("/health", include_in_schema=False)
async def health_head() -> Response:
    """Liveness for probes that send HEAD: the status of GET /health, no body."""
    return Response(status_code=200)


async def _database_state(db: Database) -> DependencyState:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say which
        return DependencyState(status="down", detail=f"{type(exc).__name__}: {exc}"[:300])
    return DependencyState(status="ok", detail=db.dialect)


@router.get(
    "/health/ready",
    responses={
        200: {"model": Readiness, "description": "every required dependency answers (some may be degraded)"},
        503: {"model": Readiness, "description": "a required dependency is down"},
    },
)
async def readiness(resources: ResourcesDep) -> JSONResponse:
    """Readiness: each dependency's state; 503 when a required one is down."""
    body = await _readiness(resources)
    return JSONResponse(body.model_dump(), status_code=_status(body))


@router.head("/health/ready", include_in_schema=False)
async def readiness_head(resources: ResourcesDep) -> Response:
    """Readiness for probes that send HEAD: the status of GET /health/ready, no body."""
    return Response(status_code=_status(await _readiness(resources)))


def _status(body: Readiness) -> int:
    return 503 if body.status == "down" else 200


async def _readiness(resources: Resources) -> Readiness:
    cache_state, cache_detail = await resources.cache.state()
    queue_state, queue_detail = await resources.jobs.state()
    limiter_state, limiter_detail = await resources.ratelimit.state()
    checks = {
        "database": await _database_state(resources.db),
        "cache": DependencyState(status=cache_state, detail=cache_detail),
        "queue": DependencyState(status=queue_state, detail=queue_detail),
        "ratelimit": DependencyState(status=limiter_state, detail=limiter_detail),
    }
    for name, check in checks.items():
        if check.status != "disabled":
            DEPENDENCY_UP.labels(name).set(1 if check.status == "ok" else 0)
    states = {check.status for check in checks.values()}
    overall: Literal["ok", "degraded", "down"] = (
        "down" if "down" in states else "degraded" if "degraded" in states else "ok"
    )
    return Readiness(status=overall, checks=checks)
