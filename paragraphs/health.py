"""Liveness and readiness: GET /health and GET /health/ready."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from paragraphs.db.engine import Database
from paragraphs.deps import ResourcesDep

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0

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


async def _database_state(db: Database) -> DependencyState:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and we say which
        return DependencyState(status="down", detail=f"{type(exc).__name__}: {exc}"[:300])
    return DependencyState(status="ok", detail=db.dialect)


@router.get("/health/ready", responses={503: {"model": Readiness, "description": "a required dependency is down"}})
async def readiness(resources: ResourcesDep) -> JSONResponse:
    """Readiness: each dependency's state; 503 when a required one is down."""
    cache_state, cache_detail = await resources.cache.state()
    queue_state, queue_detail = await resources.jobs.state()
    checks = {
        "database": await _database_state(resources.db),
        "cache": DependencyState(status=cache_state, detail=cache_detail),
        "queue": DependencyState(status=queue_state, detail=queue_detail),
    }
    states = {check.status for check in checks.values()}
    overall: Literal["ok", "degraded", "down"] = (
        "down" if "down" in states else "degraded" if "degraded" in states else "ok"
    )
    body = Readiness(status=overall, checks=checks)
    return JSONResponse(body.model_dump(), status_code=503 if overall == "down" else 200)
