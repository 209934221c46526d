"""Calling third parties: one shared httpx.AsyncClient, retries, a deadline, a circuit breaker.

Errors raised here (clients translate them into their own, services into HTTP statuses):

UpstreamFailure
  UpstreamUnreachable     could not connect, or the connection broke
  UpstreamTimedOut        no complete answer within the call's time budget
  UpstreamBadStatus       5xx, 429 or another unexpected status, after retries
  UpstreamBadBody         an answer that is too large or cannot be what was asked for
  CircuitOpen             recent calls all failed; not calling again until the cool-down ends
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import stamina
import structlog
from prometheus_client import Counter, Gauge, Histogram

log = structlog.get_logger(__name__)

UPSTREAM_CALLS = Counter(
    "paragraphs_upstream_calls_total",
    "Calls to third-party services, by upstream and outcome.",
    ["upstream", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "paragraphs_upstream_call_seconds",
    "Duration of calls to third-party services, retries included.",
    ["upstream"],
)
# Each process has its own breaker: across `serve` workers, 1 when any live one has it open (docs/operations.md).
UPSTREAM_CIRCUIT_OPEN = Gauge(
    "paragraphs_upstream_circuit_open",
    "1 while the upstream's circuit breaker is open (calls refused).",
    ["upstream"],
    multiprocess_mode="livemax",
)
# The worker's side of rate limits: a third party refusing us (429), counted per answer, retries included.
# Our own limiter's refusals are `paragraphs_ratelimit_requests_total{outcome="limited"}` (ratelimit.py).
UPSTREAM_RATE_LIMITED = Counter(
    "paragraphs_upstream_rate_limited_total", "Answers 429 (too many requests) from a third party.", ["upstream"]
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


class UpstreamFailure(Exception):
    def __init__(self, upstream: str, reason: str) -> None:
        super().__init__(f"{upstream}: {reason}")
        self.upstream = upstream
        self.reason = reason


class UpstreamUnreachable(UpstreamFailure):
    pass


class UpstreamTimedOut(UpstreamFailure):
    pass


class UpstreamBadStatus(UpstreamFailure):
    def __init__(self, upstream: str, status: int, retry_after_s: float | None = None) -> None:
        super().__init__(upstream, f"answered HTTP {status}")
        self.status = status
        self.retry_after_s = retry_after_s


class UpstreamBadBody(UpstreamFailure):
    pass


class CircuitOpen(UpstreamFailure):
    pass


def new_client() -> httpx.AsyncClient:
    """The process's one client. Each call also has its own deadline (`Upstream.timeout_s`)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=5.0),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "paragraphs/0.1 (+https://github.com/paragraphs)"},
    )


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class CircuitBreaker:
    """Opens after `threshold` failed calls in a row; after `cooldown_s` lets one trial call through."""

    threshold: int = 5
    cooldown_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    _trial_running: bool = field(default=False, repr=False)

    def remaining_s(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.cooldown_s - (time.monotonic() - self.opened_at))

    def before_call(self, upstream: str) -> None:
        if self.opened_at is None:
            return
        if self.remaining_s() > 0 or self._trial_running:
            raise CircuitOpen(
                upstream,
                f"failed {self.failures} times in a row; not calling it again for {self.remaining_s():.0f} s",
            )
        self._trial_running = True

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_running = False
        if self.failures >= self.threshold:
            self.opened_at = time.monotonic()

    def reset(self) -> None:
        self.record_success()


@dataclass
class UpstreamResponse:
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass
class Upstream:
    """One third-party service: its name (for errors and metrics), budget and breaker."""

    name: str
    client: httpx.AsyncClient
    timeout_s: float
    max_body_bytes: int = 1 << 20
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    attempts: int = 4
    wait_initial_s: float = 0.2
    wait_max_s: float = 2.0
    wait_jitter_s: float = 0.2

    async def get(self, url: str) -> UpstreamResponse:
        """GET with retries on connect errors, 429 and 5xx, within `timeout_s` in all.

        Any other status (404 included) is returned for the caller to judge.
        """
        self.breaker.before_call(self.name)
        started = time.monotonic()
        failures: list[UpstreamFailure] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._get_with_retries(url, started, failures)
        except TimeoutError:
            self._failed("timeout", started)
            if failures and not isinstance(failures[-1], UpstreamTimedOut):
                # It did answer, badly, until the budget ran out: say what it answered.
                raise failures[-1] from None
            raise UpstreamTimedOut(self.name, f"no answer within {self.timeout_s:g} s") from None
        except UpstreamFailure as exc:
            self._failed(type(exc).__name__, started)
            raise
        self.breaker.record_success()
        UPSTREAM_CIRCUIT_OPEN.labels(self.name).set(0)
        UPSTREAM_CALLS.labels(self.name, "ok").inc()
        UPSTREAM_SECONDS.labels(self.name).observe(time.monotonic() - started)
        return response

    def _failed(self, outcome: str, started: float) -> None:
        self.breaker.record_failure()
        UPSTREAM_CIRCUIT_OPEN.labels(self.name).set(0 if self.breaker.opened_at is None else 1)
        UPSTREAM_CALLS.labels(self.name, outcome).inc()
        UPSTREAM_SECONDS.labels(self.name).observe(time.monotonic() - started)

    def _backoff(self, started: float, failures: list[UpstreamFailure]) -> object:
        def hook(exc: Exception) -> bool | float:
            if isinstance(exc, UpstreamFailure):
                failures.append(exc)
            if isinstance(exc, UpstreamUnreachable):
                return True
            if not isinstance(exc, UpstreamBadStatus) or exc.status not in RETRY_STATUSES:
                return False
            if exc.retry_after_s is None:
                return True
            left = self.timeout_s - (time.monotonic() - started)
            # A Retry-After we cannot wait for within the budget ends the call now (dictionaryapi
            # sends 300 s); waiting part of it would only spend the caller's time.
            return exc.retry_after_s if exc.retry_after_s < left else False

        return hook

    async def _get_with_retries(self, url: str, started: float, failures: list[UpstreamFailure]) -> UpstreamResponse:
        async for attempt in stamina.retry_context(
            on=self._backoff(started, failures),  # type: ignore[arg-type]
            attempts=self.attempts,
            timeout=self.timeout_s,
            wait_initial=self.wait_initial_s,
            wait_max=self.wait_max_s,
            wait_jitter=self.wait_jitter_s,
        ):
            with attempt:
                return await self._get_once(url)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _get_once(self, url: str) -> UpstreamResponse:
        try:
            async with self.client.stream("GET", url) as response:
                body = await self._read_capped(response)
        except httpx.TimeoutException as exc:
            raise UpstreamTimedOut(self.name, f"timed out ({type(exc).__name__})") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise UpstreamUnreachable(self.name, f"connection failed ({type(exc).__name__})") from exc
        if response.status_code == 429:
            UPSTREAM_RATE_LIMITED.labels(self.name).inc()
        if response.status_code in RETRY_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise UpstreamBadStatus(self.name, response.status_code, retry_after)
        return UpstreamResponse(response.status_code, response.headers, body)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise UpstreamBadBody(self.name, f"answer larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
