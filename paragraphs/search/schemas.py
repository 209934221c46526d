"""Request and response bodies of /search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from paragraphs import text
from paragraphs.corpus.schemas import ParagraphRead

MAX_WORDS = 50
MAX_WORD_CHARS = 200
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000


def _one_word(value: str) -> str:
    if text.single_word(value) is None:
        found = len(text.words(value))
        raise ValueError(
            f"{value!r} is not exactly one word (it holds {found}); "
            "a word is a run of letters and digits, apostrophes inside allowed"
        )
    return value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


QueryWord = Annotated[
    str,
    Field(min_length=1, max_length=MAX_WORD_CHARS, json_schema_extra={"pattern": text.ONE_WORD_PATTERN}),
    AfterValidator(_one_word),
]
Operator = Annotated[Literal["and", "or"], BeforeValidator(_lower)]
Order = Annotated[Literal["newest", "relevance"], BeforeValidator(_lower)]


class SearchRequest(BaseModel):
    """POST /search's body; GET /search reads the same fields from the query string (`SearchQuery`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"words": ["apple", "pie"], "operator": "and", "limit": 20, "offset": 0}]},
    )

    words: list[QueryWord] = Field(
        min_length=1,
        max_length=MAX_WORDS,
        description="Each item exactly one word; matching is whole-word and case-insensitive.",
    )
    # Required, as the original service documents it: a missing operator is a 422 naming the field.
    operator: Operator = Field(description="`and`: every word; `or`: any word.")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    highlight: bool = Field(default=False, description="Add up to 3 snippets per paragraph with matches in <mark>.")
    order: Order = Field(default="newest", description="`newest` first, or by `relevance` (BM25 / ts_rank).")

    # JSON types as the schema declares them (JSON Schema's, not pydantic's lax ones): `"limit": "20"` or
    # `"highlight": 0` are 422s; `"limit": 20.0` is the integer 20.
    @field_validator("limit", "offset", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        if isinstance(value, str | bool):
            raise ValueError("must be a JSON integer")
        return value

    @field_validator("highlight", mode="before")
    @classmethod
    def _json_boolean(cls, value: object) -> object:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    def normalised_words(self) -> tuple[str, ...]:
        """The query's words in normal form: tokenized, distinct, sorted."""
        return tuple(sorted({word for item in self.words if (word := text.single_word(item))}))


class SearchQuery(SearchRequest):
    """GET /search: `words` repeated (`?words=a&words=b`), comma-separated (`?words=a,b`), or both.
    Query strings are text: `limit=20` and `highlight=true` are read as pydantic reads them."""

    @field_validator("limit", "offset", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        return value

    @field_validator("highlight", mode="before")
    @classmethod
    def _json_boolean(cls, value: object) -> object:
        return value

    @field_validator("words", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            return value
        words = [word.strip() for item in items for word in item.split(",")]
        # One past the limit is enough for the list's max_length to say so, before any word is tokenized.
        return words[: MAX_WORDS + 1]


class SearchHit(ParagraphRead):
    highlights: list[str] | None = Field(default=None, description="Only with `highlight: true`.")


class SearchResponse(BaseModel):
    paragraphs: list[SearchHit]
    total_count: int = Field(description="Every match, not only this page.")
