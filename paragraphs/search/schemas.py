"""Request and response bodies of /search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

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


QueryWord = Annotated[str, Field(min_length=1, max_length=MAX_WORD_CHARS), AfterValidator(_one_word)]
Operator = Annotated[Literal["and", "or"], BeforeValidator(_lower)]
Order = Annotated[Literal["newest", "relevance"], BeforeValidator(_lower)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    words: list[QueryWord] = Field(
        min_length=1,
        max_length=MAX_WORDS,
        description="Each item exactly one word; matching is whole-word and case-insensitive.",
    )
    operator: Operator = Field(default="and", description="`and`: every word; `or`: any word.")
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    highlight: bool = Field(default=False, description="Add up to 3 snippets per paragraph with matches in <mark>.")
    order: Order = Field(default="newest", description="`newest` first, or by `relevance` (BM25 / ts_rank_cd).")

    def normalised_words(self) -> tuple[str, ...]:
        """The query's words in normal form: tokenized, distinct, sorted."""
        return tuple(sorted({word for item in self.words if (word := text.single_word(item))}))


class SearchHit(ParagraphRead):
    highlights: list[str] | None = Field(default=None, description="Only with `highlight: true`.")


class SearchResponse(BaseModel):
    paragraphs: list[SearchHit]
    total_count: int = Field(description="Every match, not only this page.")
