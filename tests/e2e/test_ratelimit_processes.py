"""Two real `paragraphs serve` processes on one Redis spend one rate-limit budget per client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import serve

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


def test_two_serve_processes_share_one_budget(redis_clean: str, tmp_path: Path) -> None:
    settings = {
        "PARAGRAPHS_DATABASE_URL": f"sqlite:///{tmp_path / 'paragraphs.db'}",
        "PARAGRAPHS_OFFLINE": "true",
        "PARAGRAPHS_REDIS_URL": redis_clean,
        "PARAGRAPHS_RATE_LIMIT_SEARCH": "4/hour",
    }
    with serve(settings, tmp_path) as one, serve(settings, tmp_path) as two:
        query = {"words": "apple", "operator": "and"}
        answers = [httpx.get(f"{server.url}/search", params=query, timeout=10) for server in (one, two, one, two, one)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]
        assert [answer.headers.get("RateLimit-Remaining") for answer in answers] == ["3", "2", "1", "0", "0"]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        ready = httpx.get(f"{two.url}/health/ready", timeout=10).json()
        assert ready["checks"]["ratelimit"] == {"status": "ok", "detail": "redis (one budget for every process)"}
