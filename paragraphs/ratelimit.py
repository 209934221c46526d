"""Rate limits per client, with the `limits` library: in this process's memory (embedded default) or
in Redis when `PARAGRAPHS_REDIS_URL` is set, so every API process spends from one budget.

Routes name a group (`fetch`, `write`, `search`); each group has its own limits (setting strings such as
`60/minute` or `10/second;600/minute`). A client is its API key when it sends a valid one, else its address
(`X-Forwarded-For` is read only from `PARAGRAPHS_TRUSTED_PROXIES`). Limits use a sliding window counter:
O(1) per client and limit, no burst of twice the limit at a window's edge.

Redis down: requests are let through (fail open), counted, logged once per back-off, and readiness says
`ratelimit: degraded`; Redis is tried again after `retry_after_s`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import Counter
from starlette.requests import Request
from starlette.types import Scope

from paragraphs.errors import RateLimited
from paragraphs.settings import Settings

log = structlog.get_logger(__name__)

RATE_LIMIT_DECISIONS = Counter(
    "paragraphs_ratelimit_requests_total",
    "Requests checked against a rate limit, by group and outcome (allowed, limited, failed_open).",
    ["group", "outcome"],
)

LimiterState = Literal["ok", "degraded", "disabled"]
# Where a request's scope keeps the decision already taken for it (group, decision): a layer that
# answers before the routes (cached_reads.py) and the route's dependency spend one request, not two.
SPENT_SCOPE_KEY = "paragraphs.rate_limit"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class LimitGroup(StrEnum):
    FETCH = "fetch"
    WRITE = "write"
    SEARCH = "search"


class TooManyRequests(RateLimited):
    """429 with `Retry-After` and the `RateLimit-*` headers of the limit that was spent."""

    def __init__(self, detail: str, retry_after_s: int, headers: dict[str, str]) -> None:
        super().__init__(detail, retry_after_s)
        self.headers = {**headers, "Retry-After": str(retry_after_s)}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: RateLimitItem
    remaining: int
    reset_in_s: int

    def headers(self) -> dict[str, str]:
        """The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers): the limit nearest to running out."""
        window_s = self.limit.get_expiry()
        return {
            "RateLimit-Limit": str(self.limit.amount),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_in_s),
            "RateLimit-Policy": f"{self.limit.amount};w={window_s}",
        }


def parse_networks(values: Sequence[str]) -> list[Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _is_trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted: Sequence[Network]) -> str:
    """The peer's address; behind trusted proxies, the right-most `X-Forwarded-For` entry that is not one."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = [part.strip() for part in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for address in reversed([part for part in forwarded if part]):
        if not _is_trusted(address, trusted):
            return address
    return peer


def offered_api_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class RateLimiter:
    """Checks and spends a client's budget for a group; never raises for its storage's sake."""

    def __init__(self, settings: Settings, *, retry_after_s: float = 5.0, timeout_s: float = 0.5) -> None:
        self.enabled = settings.rate_limits_enabled
        self._limits: dict[LimitGroup, list[RateLimitItem]] = {
            LimitGroup.FETCH: parse_many(settings.rate_limit_fetch),
            LimitGroup.WRITE: parse_many(settings.rate_limit_write),
            LimitGroup.SEARCH: parse_many(settings.rate_limit_search),
        }
        self._trusted = parse_networks(settings.trusted_proxies)
        # SecretStr from the environment; plain strings when a caller copies Settings without validation.
        self._key_digests = [
            _digest(getattr(key, "get_secret_value", lambda k=key: str(k))()) for key in settings.api_keys
        ]
        self._redis = settings.redis_url is not None
        self._storage: MemoryStorage | RedisStorage = (
            RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                key_prefix="paragraphs:ratelimit",
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
            )
            if settings.redis_url
            else MemoryStorage()
        )
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self._last_error = ""

    def client_id(self, request: Request) -> str:
        """`key:<digest>` for a configured API key (every key compared in constant time), else `ip:<address>`."""
        offered = offered_api_key(request)
        if offered is not None and self._key_digests:
            digest = _digest(offered)
            if any([hmac.compare_digest(digest, known) for known in self._key_digests]):  # noqa: C419 - check all
                return f"key:{digest.hex()[:32]}"
        return f"ip:{client_address(request, self._trusted)}"

    async def hit(self, group: LimitGroup, client: str) -> Decision | None:
        """Spend one request of `client`'s budget for `group`. None: not limited (off, or failing open)."""
        if not self.enabled:
            return None
        if time.monotonic() < self._down_until:
            RATE_LIMIT_DECISIONS.labels(group.value, "failed_open").inc()
            return None
        try:
            decisions = [await self._hit_one(item, group, client) for item in self._limits[group]]
        except Exception as exc:  # noqa: BLE001 - any storage failure: let the request through, say so
            self._failed(exc)
            RATE_LIMIT_DECISIONS.labels(group.value, "failed_open").inc()
            return None
        refused = [decision for decision in decisions if not decision.allowed]
        decision = max(refused, key=lambda d: d.reset_in_s) if refused else min(decisions, key=lambda d: d.remaining)
        RATE_LIMIT_DECISIONS.labels(group.value, "allowed" if decision.allowed else "limited").inc()
        return decision

    async def spend(self, group: LimitGroup, scope: Scope) -> Decision | None:
        """`hit` for the request of `scope`, once per request: a second call returns the first's decision."""
        spent = scope.get(SPENT_SCOPE_KEY)
        if spent is not None and spent[0] is group:
            decision: Decision | None = spent[1]
            return decision
        decision = await self.hit(group, self.client_id(Request(scope)))
        scope[SPENT_SCOPE_KEY] = (group, decision)
        return decision

    async def _hit_one(self, item: RateLimitItem, group: LimitGroup, client: str) -> Decision:
        allowed = await self._strategy.hit(item, group.value, client)
        stats = await self._strategy.get_window_stats(item, group.value, client)
        reset_in_s = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed=allowed, limit=item, remaining=stats.remaining, reset_in_s=reset_in_s)

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self._retry_after_s
        self._last_error = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("rate limiter storage unavailable, failing open", error=self._last_error)

    async def state(self) -> tuple[LimiterState, str]:
        if not self.enabled:
            return "disabled", "rate limits are off (PARAGRAPHS_RATE_LIMITS_ENABLED=false)"
        if not self._redis:
            return "ok", "in-process memory (each process has its own budget)"
        try:
            reachable = await self._storage.check()
        except Exception as exc:  # noqa: BLE001 - any failure: unreachable
            reachable = False
            self._last_error = f"{type(exc).__name__}: {exc}"[:200]
        if not reachable:
            self._down_until = time.monotonic() + self._retry_after_s
            return "degraded", f"redis unreachable, requests are not limited: {self._last_error or 'no answer'}"
        self._down_until = 0.0
        return "ok", "redis (one budget for every process)"

    async def close(self) -> None:
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


def too_many(decision: Decision) -> TooManyRequests:
    return TooManyRequests(
        f"too many requests: the limit is {decision.limit.amount} per {decision.limit.get_expiry()} s "
        f"for this client; try again in {decision.reset_in_s} s",
        decision.reset_in_s,
        decision.headers(),
    )
