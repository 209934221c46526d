"""The OpenAPI document a client generator reads: operation ids, every status, headers, security."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
from asgi_lifespan import LifespanManager

from paragraphs.app import create_app
from paragraphs.settings import Settings

OPERATION_IDS = {
    ("post", "/fetch"): "fetch_paragraph",
    ("post", "/paragraphs"): "create_paragraph",
    ("get", "/paragraphs"): "list_paragraphs",
    ("get", "/paragraphs/{paragraph_id}"): "get_paragraph",
    ("put", "/paragraphs/{paragraph_id}"): "update_paragraph",
    ("delete", "/paragraphs/{paragraph_id}"): "delete_paragraph",
    ("post", "/search"): "search_paragraphs",
    ("get", "/search"): "search_paragraphs_by_link",
    ("get", "/dictionary"): "get_dictionary",
}


async def spec_of(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


class TestOperations:
    async def test_operation_ids_are_the_route_names(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        found = {(method, path): op["operationId"] for path, ops in spec["paths"].items() for method, op in ops.items()}
        for key, name in OPERATION_IDS.items():
            assert found[key] == name
        assert len(set(found.values())) == len(found)

    async def test_every_api_operation_documents_503_with_retry_after(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        for key in OPERATION_IDS:
            method, path = key
            response = spec["paths"][path][method]["responses"]["503"]
            assert "Retry-After" in response["headers"]
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}

    async def test_operations_with_a_body_document_413(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)

    async def test_search_declares_x_cache_and_creates_declare_location(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        assert "X-Cache" in spec["paths"]["/search"]["post"]["responses"]["200"]["headers"]
        assert "X-Cache" in spec["paths"]["/search"]["get"]["responses"]["200"]["headers"]
        assert "Location" in spec["paths"]["/paragraphs"]["post"]["responses"]["201"]["headers"]


def bodies(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every request and response body's media type, named `METHOD PATH STATUS|request TYPE`."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            parts = [("request", op.get("requestBody", {})), *op["responses"].items()]
            for status, part in parts:
                for media_type, media in part.get("content", {}).items():
                    yield f"{method.upper()} {path} {status} {media_type}", media


class TestExamples:
    async def test_every_body_has_an_example_valid_against_its_own_schema(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        problems: list[str] = []
        checked = 0
        for name, media in bodies(spec):
            examples = [media["example"]] if "example" in media else []
            examples += [example["value"] for example in media.get("examples", {}).values()]
            if not examples:
                problems.append(f"{name}: no example")
            # The schema as shown, its $refs resolved against the document's own components.
            validator = jsonschema_rs.Draft202012Validator({**media["schema"], "components": spec["components"]})
            for example in examples:
                checked += 1
                problems += [f"{name}: {error.message}" for error in validator.iter_errors(example)]
        assert problems == []
        assert checked >= 40  # every operation's success and error bodies: the walk found them

    async def test_error_examples_say_what_their_status_means(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        fetch = spec["paths"]["/fetch"]["post"]["responses"]
        assert (
            "does not exist"
            in spec["paths"]["/paragraphs/{paragraph_id}"]["get"]["responses"]["404"]["content"]["application/json"][
                "example"
            ]["detail"]
        )
        assert "too many requests" in fetch["429"]["content"]["application/json"]["example"]["detail"]
        assert "nothing was stored" in fetch["502"]["content"]["application/json"]["example"]["detail"]


class TestSecurity:
    async def test_open_writes_declare_no_security(self, client: httpx.AsyncClient) -> None:
        spec = await spec_of(client)
        assert "securitySchemes" not in spec.get("components", {})
        for ops in spec["paths"].values():
            for op in ops.values():
                assert "security" not in op
                assert "401" not in op["responses"]

    async def test_with_keys_writes_declare_security_and_401(self, settings: Settings) -> None:
        app = create_app(settings.model_copy(update={"api_keys": ["k"]}))
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://t") as client,
        ):
            spec = await spec_of(client)
        assert spec["components"]["securitySchemes"]
        for method, path in [("post", "/fetch"), ("post", "/paragraphs"), ("delete", "/paragraphs/{paragraph_id}")]:
            op = spec["paths"][path][method]
            assert op["security"]
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
        assert "security" not in spec["paths"]["/search"]["post"]


class TestMethodNotAllowed:
    @pytest.mark.parametrize(
        ("method", "path", "allowed"),
        [("PATCH", "/search", "GET, POST"), ("PATCH", "/paragraphs/1", "DELETE, GET, PUT")],
    )
    async def test_allow_lists_every_method_of_the_path(
        self, client: httpx.AsyncClient, method: str, path: str, allowed: str
    ) -> None:
        response = await client.request(method, path)
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) >= set(allowed.split(", "))
