"""Traffic from many HTTP clients for the fault and concurrency tests, and what the server acknowledged.

Two shapes over one vocabulary and one text generator:
- `Ledger` with `create`/`replace`/`delete`/`search` (database faults, concurrent writers): every answer
  recorded, including the writes whose outcome is unknown (503, a dropped connection).
- `Traffic` (Redis and broker faults): N clients write their own paragraphs, search and read
  /dictionary until stopped; statuses tallied, acknowledged writes kept (nothing may be unknown there:
  the cache and the queue are never required, so every answer must be a 2xx).

The ledger keeps, per paragraph id, every state it may be in now: an acknowledged write (2xx) narrows
it to one; a write answered 503 adds its state (the database may have committed it before the
connection was lost) without removing the acknowledged one. At the end every stored paragraph must be
in one of its possible states: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from dataclasses import dataclass, field

import httpx

from paragraphs import text
from tests.search.test_brute_force import brute_force

# Shared words make hot word-count rows (every writer touches `the`), rare ones make new rows appear
# and disappear (a count reaching zero is deleted).
VOCABULARY = ["the", "a", "meadow", "river", "stone", "light", "don't", "café", "zeitgeist's", "42", "one", "none"]
RARE = [f"rare{i}" for i in range(40)]

Absent = None
State = str | None  # the content, or Absent


def content(rng: random.Random) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(3, 25)) + rng.choices(RARE, k=rng.randint(0, 2))
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


@dataclass
class Ledger:
    statuses: Counter[int] = field(default_factory=Counter)
    dropped: list[str] = field(default_factory=list)
    possible: dict[int, set[State]] = field(default_factory=dict)
    sent: dict[int, set[str]] = field(default_factory=dict)
    deleted_204: Counter[int] = field(default_factory=Counter)
    maybe_created: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + len(self.dropped)

    def summary(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return f"{self.requests} requests ({codes}; dropped: {len(self.dropped)})"


async def call(
    http: httpx.AsyncClient, ledger: Ledger, method: str, url: str, **kwargs: object
) -> httpx.Response | None:
    try:
        response = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError as exc:
        ledger.dropped.append(f"{method} {url}: {type(exc).__name__}: {exc}")
        return None
    ledger.statuses[response.status_code] += 1
    return response


async def create(http: httpx.AsyncClient, ledger: Ledger, rng: random.Random) -> int | None:
    body = content(rng)
    response = await call(http, ledger, "POST", "/paragraphs", json={"content": body})
    if response is not None and response.status_code == 201:
        pid = int(response.json()["id"])
        ledger.possible[pid] = {body}
        ledger.sent.setdefault(pid, set()).add(body)
        return pid
    ledger.maybe_created.append(body)
    return None


async def replace(http: httpx.AsyncClient, ledger: Ledger, rng: random.Random, pid: int) -> None:
    body = content(rng)
    ledger.sent.setdefault(pid, set()).add(body)
    response = await call(http, ledger, "PUT", f"/paragraphs/{pid}", json={"content": body})
    status = None if response is None else response.status_code
    if status == 200:
        ledger.possible[pid] = {body}
    elif status != 404 and pid in ledger.possible:
        ledger.possible[pid].add(body)


async def delete(http: httpx.AsyncClient, ledger: Ledger, pid: int) -> None:
    response = await call(http, ledger, "DELETE", f"/paragraphs/{pid}")
    status = None if response is None else response.status_code
    if status == 204:
        ledger.deleted_204[pid] += 1
        ledger.possible[pid] = {Absent}
    elif status != 404 and pid in ledger.possible:
        ledger.possible[pid].add(Absent)


async def search(http: httpx.AsyncClient, ledger: Ledger, rng: random.Random) -> None:
    words = rng.sample(VOCABULARY, 2)
    await call(http, ledger, "POST", "/search", json={"words": words, "operator": rng.choice(["and", "or"])})


async def read_all(http: httpx.AsyncClient) -> dict[int, str]:
    """Every stored paragraph, page by page."""
    found: dict[int, str] = {}
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        response = await http.get("/paragraphs", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.update({p["id"]: p["content"] for p in page["paragraphs"]})
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def lost(ledger: Ledger, stored: dict[int, str]) -> list[str]:
    """Acknowledged states the database does not hold (empty: nothing lost)."""
    problems = [
        f"paragraph {pid}: stored {stored.get(pid, Absent)!r}, possible {states!r}"
        for pid, states in ledger.possible.items()
        if stored.get(pid, Absent) not in states
    ]
    unknown = Counter(ledger.maybe_created)
    for pid in stored.keys() - ledger.possible.keys():
        if unknown[stored[pid]] <= 0:
            problems.append(f"paragraph {pid} was never sent: {stored[pid]!r}")
        unknown[stored[pid]] -= 1
    return problems


async def search_matches_brute_force(http: httpx.AsyncClient, stored: dict[int, str]) -> None:
    for words, operator in [(["meadow"], "and"), (["the", "river"], "and"), (["rare1", "café"], "or"), (["42"], "or")]:
        response = await http.post("/search", json={"words": words, "operator": operator, "limit": 1000})
        assert response.status_code == 200, response.text
        body = response.json()
        expected = brute_force(stored, words, operator)
        assert body["total_count"] == len(expected), (words, operator)
        assert [p["id"] for p in body["paragraphs"]] == expected[:1000], (words, operator)


_SAMPLE = re.compile(r"^paragraphs_http_requests_total\{(?P<labels>.*)\} (?P<value>[0-9.e+]+)$", re.MULTILINE)


def requests_with_status(metrics_text: str, status: int, *, exclude_handler: str) -> int:
    """Sum of `paragraphs_http_requests_total` samples with this status, one handler left out."""
    total = 0.0
    for match in _SAMPLE.finditer(metrics_text):
        labels = match["labels"]
        if f'status="{status}"' in labels and f'handler="{exclude_handler}"' not in labels:
            total += float(match["value"])
    return int(total)


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
                body = content(rng)
                response = await self.client.post("/paragraphs", json={"content": body})
                if response.status_code == 201:
                    mine.append(response.json()["id"])
                    self.acknowledged[mine[-1]] = body
            elif roll < 0.5:
                target, body = rng.choice(mine), content(rng)
                response = await self.client.put(f"/paragraphs/{target}", json={"content": body})
                if response.status_code == 200:
                    self.acknowledged[target] = body
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
        return dict(Counter(word for body in self.acknowledged.values() for word in text.words(body)))
