"""dictionaryapi.dev: `GET {url}/{word}`; a JSON list of entries, or 404 with a JSON body for "no such word".

Read defensively (docs/upstreams.md): every entry and meaning is walked, keys may be missing
or null, a 200 that is not a JSON list of objects is a failure, a 429 body is never parsed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from paragraphs.dictionary.schemas import Entry, Meaning
from paragraphs.http import Upstream, UpstreamBadBody, UpstreamBadStatus

# One word's entries are a few KB; `test` with three etymologies is ~10 KB.
MAX_BODY_BYTES = 512 * 1024


def _strings(values: Any) -> list[str]:
    return (
        [value.strip() for value in values if isinstance(value, str) and value.strip()]
        if isinstance(values, list)
        else []
    )


def parse_entries(word: str, body: bytes) -> Entry:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UpstreamBadBody("dictionaryapi", "the answer is not valid JSON") from None
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        raise UpstreamBadBody("dictionaryapi", "the answer is not a list of entries")
    meanings: list[Meaning] = []
    phonetics: list[str] = []
    for item in data:
        if isinstance(item.get("phonetic"), str) and item["phonetic"].strip():
            phonetics.append(item["phonetic"].strip())
        for phonetic in item.get("phonetics") or []:
            if isinstance(phonetic, dict) and isinstance(phonetic.get("text"), str) and phonetic["text"].strip():
                phonetics.append(phonetic["text"].strip())
        for meaning in item.get("meanings") or []:
            if not isinstance(meaning, dict):
                continue
            texts = _strings([d.get("definition") for d in meaning.get("definitions") or [] if isinstance(d, dict)])
            if texts:
                part = meaning.get("partOfSpeech")
                meanings.append(Meaning(part_of_speech=part if isinstance(part, str) else None, definitions=texts))
    first = data[0].get("phonetic")
    phonetic = first.strip() if isinstance(first, str) and first.strip() else (phonetics[0] if phonetics else None)
    return Entry(word=word, phonetic=phonetic, meanings=meanings, source="dictionaryapi")


class DictionaryApi:
    name = "dictionaryapi"

    def __init__(self, upstream: Upstream, base_url: str) -> None:
        self._upstream = upstream
        self._base_url = base_url.rstrip("/")

    async def lookup(self, word: str) -> Entry | None:
        response = await self._upstream.get(f"{self._base_url}/{quote(word, safe='')}")
        if response.status == 404:
            return None
        if response.status != 200:
            raise UpstreamBadStatus(self._upstream.name, response.status)
        entry = parse_entries(word, response.body)
        return entry if entry.meanings else None
