"""Request and response bodies of /fetch and /paragraphs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from paragraphs import text
from paragraphs.corpus.limits import MAX_CONTENT_CHARS


def _storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (lone surrogate found)") from None
    return value


def _has_a_word(value: str) -> str:
    if not text.words(value):
        raise ValueError("must contain at least one word (letters or digits)")
    return value


Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CONTENT_CHARS,
        description="The paragraph's text: at least one word, no NUL character, valid Unicode.",
        json_schema_extra={"pattern": text.HAS_A_WORD_PATTERN},
    ),
    AfterValidator(_storable_text),
    AfterValidator(_has_a_word),
]


class ParagraphCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: Content


class ParagraphUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: Content


class ParagraphRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    content: str
    source: str = Field(description="metaphorpsum, offline, user or import")
    word_count: int = Field(description="Number of words by the service's tokenizer.")
    created_at: datetime


class ParagraphPage(BaseModel):
    paragraphs: list[ParagraphRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
