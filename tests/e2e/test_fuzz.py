"""Schemathesis against the real server: no request the OpenAPI schema describes gets a 500.

Driven through Hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.e2e.server import Server, serve

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    env = {"PARAGRAPHS_DATABASE_URL": f"sqlite:///{directory / 'paragraphs.db'}", "PARAGRAPHS_OFFLINE": "true"}
    with serve(env, directory) as server:
        yield server


def test_no_request_makes_a_server_error(live_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 10  # every operation of the schema is valid and fuzzed

    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        run()
