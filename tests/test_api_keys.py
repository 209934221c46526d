"""PARAGRAPHS_API_KEYS: writes need a key, reads stay open."""

from __future__ import annotations

import httpx


class TestApiKeys:
    async def test_writes_without_a_valid_key_are_401_and_change_nothing(self, guarded: httpx.AsyncClient) -> None:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}):
            response = await guarded.post("/paragraphs", json={"content": "words"}, headers=headers)
            assert response.status_code == 401
            assert "API key" in response.json()["detail"]
            assert (await guarded.post("/fetch", headers=headers)).status_code == 401
        assert (await guarded.get("/paragraphs")).json()["paragraphs"] == []

    async def test_either_header_with_any_configured_key_writes(self, guarded: httpx.AsyncClient) -> None:
        first = await guarded.post("/paragraphs", json={"content": "one"}, headers={"Authorization": "Bearer k1"})
        assert first.status_code == 201
        second = await guarded.post("/paragraphs", json={"content": "two"}, headers={"X-API-Key": "k2"})
        assert second.status_code == 201
        paragraph_id = first.json()["id"]
        assert (await guarded.delete(f"/paragraphs/{paragraph_id}")).status_code == 401
        assert (await guarded.delete(f"/paragraphs/{paragraph_id}", headers={"X-API-Key": "k1"})).status_code == 204

    async def test_reads_stay_open(self, guarded: httpx.AsyncClient) -> None:
        assert (await guarded.get("/paragraphs")).status_code == 200
        assert (await guarded.post("/search", json={"words": ["one"], "operator": "and"})).status_code == 200
        assert (await guarded.get("/dictionary")).status_code == 200
