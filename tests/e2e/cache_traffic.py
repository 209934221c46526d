"""Bounded concurrent traffic for the Redis and broker fault tests: N clients write their own paragraphs and search, while
the test breaks a dependency; every answer is tallied and every acknowledged write remembered."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

from paragraphs import text

VOCABULARY = ["meadow", "river", "stone", "light", "quiet", "amber", "north", "song", "field", "glass"]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 12))) + "."


@dataclass
class Traffic:
    client: httpx.AsyncClient
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: dict[int, str] = field(default_factory=dict)  # id -> content the client was told is stored
    requests: int = 0
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, requests: int, timeout_s: float = 60.0) -> None:
        """Wait until `requests` answers have come in since the start (bounded)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.requests < requests:
            assert asyncio.get_running_loop().time() < deadline, f"traffic stalled at {self.requests} requests"
            await asyncio.sleep(0.02)

    async def _one(self, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[int] = []
        while not self.stopping.is_set():
            roll = rng.random()
            if roll < 0.35 or not mine:
                content = sentence(rng)
                response = await self.client.post("/paragraphs", json={"content": content})
                if response.status_code == 201:
                    mine.append(response.json()["id"])
                    self.acknowledged[mine[-1]] = content
            elif roll < 0.5:
                target, content = rng.choice(mine), sentence(rng)
                response = await self.client.put(f"/paragraphs/{target}", json={"content": content})
                if response.status_code == 200:
                    self.acknowledged[target] = content
            elif roll < 0.6:
                target = mine.pop(rng.randrange(len(mine)))
                response = await self.client.delete(f"/paragraphs/{target}")
                if response.status_code == 204:
                    del self.acknowledged[target]
            elif roll < 0.9:
                words = rng.sample(VOCABULARY, rng.randint(1, 3))
                response = await self.client.post(
                    "/search", json={"words": words, "operator": rng.choice(["and", "or"])}
                )
            else:
                response = await self.client.get("/dictionary", params={"limit": 5})
            self.statuses[response.status_code] += 1
            self.requests += 1

    async def run(self, clients: int) -> None:
        await asyncio.gather(*(self._one(seed) for seed in range(clients)))

    def expected_counts(self) -> dict[str, int]:
        return dict(Counter(word for content in self.acknowledged.values() for word in text.words(content)))
