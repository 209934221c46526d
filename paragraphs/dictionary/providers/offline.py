"""The offline dictionary: definitions we ship (data/offline_dictionary.json, MIT)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from paragraphs.dictionary.schemas import Entry, Meaning


@cache
def _entries() -> dict[str, Entry]:
    raw = resources.files("paragraphs.dictionary.providers").joinpath("data/offline_dictionary.json").read_text("utf-8")
    data = json.loads(raw)["entries"]
    return {
        word: Entry(
            word=word,
            phonetic=entry.get("phonetic"),
            meanings=[
                Meaning(part_of_speech=m["partOfSpeech"], definitions=m["definitions"]) for m in entry["meanings"]
            ],
            source="offline",
        )
        for word, entry in data.items()
    }


class OfflineDictionary:
    name = "offline"

    async def lookup(self, word: str) -> Entry | None:
        return _entries().get(word)

    def words(self) -> list[str]:
        return sorted(_entries())
