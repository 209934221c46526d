"""What a definition is, inside the service and on the wire (GET /dictionary)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProviderName = Literal["dictionaryapi", "offline"]


class Meaning(BaseModel):
    part_of_speech: str | None = Field(default=None, description="noun, verb, article, ...")
    definitions: list[str]


class Entry(BaseModel):
    """A provider's answer for one word: found, with its meanings, in the provider's order."""

    word: str
    phonetic: str | None = None
    meanings: list[Meaning] = Field(default_factory=list)
    source: ProviderName

    @property
    def definitions(self) -> list[str]:
        seen: dict[str, None] = {}
        for meaning in self.meanings:
            for definition in meaning.definitions:
                if definition:
                    seen.setdefault(definition, None)
        return list(seen)


class Lookup(BaseModel):
    """What we know of a word: an entry, or `entry=None` for "no provider has it"."""

    word: str
    entry: Entry | None


class DictionaryWord(BaseModel):
    word: str
    count: int = Field(description="Occurrences in all stored paragraphs.")
    definitions: list[str] = Field(description="Every definition, in the provider's order; empty when none is known.")
    phonetic: str | None
    source: ProviderName | None = Field(description="Where the definitions came from; null when there are none.")
    meanings: list[Meaning] = Field(description="The definitions grouped by part of speech.")


class DictionaryResponse(BaseModel):
    words: list[DictionaryWord]
