"""Where the suite finds PostgreSQL, Redis and RabbitMQ, and what it does when one is missing.

Locally a missing service skips its tests; under CI=true it fails them, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("PARAGRAPHS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PARAGRAPHS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("PARAGRAPHS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def missing(what: str, url: str) -> None:
    """Skip (locally) or fail (CI=true): `what` at `url` cannot be reached."""
    message = f"{what} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it (start it, or set the PARAGRAPHS_TEST_* URL)")
    pytest.skip(message)
