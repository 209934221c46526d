"""GET and HEAD on /health and /health/ready (in-process ASGI), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest


class TestHead:
    @pytest.mark.parametrize("path", ["/health", "/health/ready"])
    async def test_head_answers_as_get_does_without_a_body(self, client: httpx.AsyncClient, path: str) -> None:
        got = await client.get(path)
        head = await client.head(path)
        assert got.status_code == head.status_code == 200
        assert head.content == b""

    async def test_head_is_not_in_the_openapi_document(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert set(paths["/health"]) == set(paths["/health/ready"]) == {"get"}
