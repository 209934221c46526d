"""Examples in the OpenAPI document: one on every request and response body (media type `example`).

Each is made from the body's own pydantic model, so it is what the service would send or accept;
tests/test_openapi.py validates each against the schema it is shown with. Error bodies get a detail
per status, as the service words it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paragraphs.budget import MAX_BODY_BYTES
from paragraphs.corpus.schemas import ParagraphCreate, ParagraphPage, ParagraphRead, ParagraphUpdate
from paragraphs.dictionary.schemas import DictionaryResponse, DictionaryWord, Meaning
from paragraphs.errors import ErrorBody
from paragraphs.search.schemas import SearchHit, SearchRequest, SearchResponse

_CREATED_AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
_CONTENT = "A river is a stone's song. The meadow of light is a quiet river."
_PARAGRAPH = ParagraphRead(id=42, content=_CONTENT, source="user", word_count=14, created_at=_CREATED_AT)
_HIT = SearchHit(**_PARAGRAPH.model_dump())
_MEANING = Meaning(part_of_speech="noun", definitions=["A large and often winding stream which drains a land mass."])


def _json(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=False)


def _validation_error() -> dict[str, Any]:
    return {
        "detail": [
            {
                "type": "missing",
                "loc": ["body", "operator"],
                "msg": "Field required",
                "input": {"words": ["river"]},
            }
        ]
    }


def _readiness(status: str, database: str) -> dict[str, Any]:
    return {
        "status": status,
        "checks": {
            "database": {"status": database, "detail": "postgresql" if database == "ok" else "ConnectionRefusedError"},
            "cache": {"status": "ok", "detail": "redis"},
            "queue": {"status": "ok", "detail": "celery, a worker answered"},
            "ratelimit": {"status": "ok", "detail": "redis"},
        },
    }


# By component schema name: the example shown wherever that schema is a body.
BY_SCHEMA: dict[str, Any] = {
    "ParagraphCreate": _json(ParagraphCreate(content=_CONTENT)),
    "ParagraphUpdate": _json(ParagraphUpdate(content="The meadow of light, again.")),
    "ParagraphRead": _json(_PARAGRAPH),
    "ParagraphPage": _json(ParagraphPage(paragraphs=[_PARAGRAPH], next_cursor="eyJpZCI6IDQyfQ")),
    "SearchRequest": _json(SearchRequest(words=["river", "light"], operator="and", limit=20)),
    "SearchResponse": SearchResponse(paragraphs=[_HIT], total_count=1).model_dump(mode="json", exclude_none=True),
    "DictionaryResponse": _json(
        DictionaryResponse(
            words=[
                DictionaryWord(
                    word="river",
                    count=2,
                    definitions=_MEANING.definitions,
                    phonetic="/\u02c8\u0279\u026av\u0259/",  # IPA, escaped: ruff flags the small capital I
                    source="dictionaryapi",
                    meanings=[_MEANING],
                )
            ]
        )
    ),
    "HTTPValidationError": _validation_error(),
    "Health": {"status": "ok"},
    "Readiness": _readiness("ok", "ok"),
}

# Error bodies by status: what the service says.
ERROR_DETAILS: dict[str, str] = {
    "401": "this server requires an API key: send `Authorization: Bearer <key>` or `X-API-Key`",
    "404": "paragraph 42 does not exist",
    "413": f"the request body is larger than any valid request ({MAX_BODY_BYTES:,} bytes at most); "
    "paragraphs hold at most 100,000 characters",
    "429": "too many requests: the limit is 60 per 60 s for this client; try again in 12 s",
    "502": "metaphorpsum failed, nothing was stored: answered HTTP 500",
    "503": "the database is unavailable right now; nothing was changed, try again shortly",
    "504": "metaphorpsum did not answer in time: no answer within 10 s",
}
# Readiness's 503 is the state of every dependency, one of them down.
READINESS_DOWN = _readiness("down", "down")


def example_for(schema_name: str, status: str | None) -> Any:
    """The example of a body of `schema_name` (answered with `status`, None for a request), or None."""
    if schema_name == "ErrorBody":
        return _json(ErrorBody(detail=ERROR_DETAILS.get(status or "", "what went wrong, for a person to act on")))
    if schema_name == "Readiness" and status == "503":
        return READINESS_DOWN
    return BY_SCHEMA.get(schema_name)
