"""The reference for requests per second: a bare FastAPI endpoint returning a constant."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()
CONSTANT: dict[str, object] = {
    "words": [{"word": "the", "count": 1, "definitions": [], "phonetic": None, "source": None, "meanings": []}]
}


@app.get("/dictionary")
async def constant() -> dict[str, object]:
    return CONSTANT
