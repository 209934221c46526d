"""/metrics labels come from our routes and methods, never from what a client invents."""

from __future__ import annotations

import uuid

import httpx
import pytest

from paragraphs.http_metrics import method_label


class TestMethodLabel:
    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
    def test_standard_methods_are_kept(self, method: str) -> None:
        assert method_label(method) == method

    @pytest.mark.parametrize("method", ["FOO", "get", "PROPFIND", "X" * 100])
    def test_anything_else_is_other(self, method: str) -> None:
        assert method_label(method) == "other"


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
class TestScrape:
    async def test_invented_methods_and_paths_add_no_series(self, client: httpx.AsyncClient) -> None:
        marker = uuid.uuid4().hex[:8].upper()
        invented = [f"M{marker}{i}" for i in range(20)]
        for method in invented:
            assert (await client.request(method, "/paragraphs")).status_code == 405
        paths = [f"/nothing-{marker.lower()}-{i}" for i in range(20)]
        for path in paths:
            assert (await client.get(path)).status_code == 404
        scrape = (await client.get("/metrics")).text
        assert marker not in scrape
        assert marker.lower() not in scrape
        assert 'handler="/paragraphs",method="other",status="405"' in scrape
        assert 'handler="none",method="GET",status="404"' in scrape
