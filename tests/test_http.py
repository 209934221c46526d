"""Unit rules of the upstream caller that need no server: Retry-After and the circuit breaker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paragraphs.http import CircuitBreaker, CircuitOpen, retry_after_seconds


class TestRetryAfter:
    def test_delta_seconds(self) -> None:
        assert retry_after_seconds("300") == 300.0
        assert retry_after_seconds(" 1 ") == 1.0

    def test_http_date(self) -> None:
        now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
        assert retry_after_seconds("Sun, 22 Nov 2026 12:00:30 GMT", now) == 30.0
        assert retry_after_seconds("Sun, 22 Nov 2026 11:00:00 GMT", now) == 0.0

    @pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5e9x"])
    def test_absent_or_unreadable(self, value: str | None) -> None:
        assert retry_after_seconds(value) is None


class TestCircuitBreaker:
    def test_opens_after_threshold_failures_and_fails_fast(self) -> None:
        breaker = CircuitBreaker(threshold=3, cooldown_s=60)
        for _ in range(2):
            breaker.before_call("up")
            breaker.record_failure()
        breaker.before_call("up")  # still closed after 2
        breaker.record_failure()
        with pytest.raises(CircuitOpen, match="failed 3 times in a row"):
            breaker.before_call("up")

    def test_success_closes_it(self) -> None:
        breaker = CircuitBreaker(threshold=2, cooldown_s=60)
        breaker.record_failure()
        breaker.record_success()
        breaker.record_failure()
        breaker.before_call("up")  # one failure since the success: closed

    def test_after_cooldown_one_trial_goes_through(self) -> None:
        breaker = CircuitBreaker(threshold=1, cooldown_s=0.0)
        breaker.record_failure()
        breaker.before_call("up")  # cool-down over: the trial call
        with pytest.raises(CircuitOpen):
            breaker.before_call("up")  # a second caller waits for the trial's outcome
        breaker.record_success()
        breaker.before_call("up")
