"""Circuit breaker, retry budget, backoff and failure classification: pure logic with a fake clock."""

from __future__ import annotations

import httpx

from gateway.config import CircuitBreakerConfig, RetryConfig
from gateway.transport import CircuitBreaker, CircuitState, TransportError
from gateway.transport.retry import RetryBudget, backoff, failure_kind


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_half_opens_with_one_probe():
    clock = Clock()
    changes: list[CircuitState] = []
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=3, open_duration=1.0), changes.append, clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record(False)
    breaker.record(True)  # a success resets the streak
    for _ in range(3):
        assert breaker.allow()
        breaker.record(False)
    assert breaker.state is CircuitState.OPEN and not breaker.allow()
    clock.now += 1.0
    assert breaker.allow() and breaker.probing  # the one probe
    assert not breaker.allow()  # others still fail fast while it is out
    breaker.record(False)
    assert breaker.state is CircuitState.OPEN
    clock.now += 1.0
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    assert changes == [CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.OPEN, CircuitState.HALF_OPEN, CircuitState.CLOSED]


def test_breaker_opens_on_error_rate_over_the_window():
    clock = Clock()
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=100, error_rate=0.5, min_requests=10, window=10), clock=clock)
    for i in range(9):
        breaker.record(i % 2 == 0)  # 5 ok, 4 failed
    assert breaker.state is CircuitState.CLOSED
    breaker.record(False)  # 10 fetches, 5 failed
    assert breaker.state is CircuitState.OPEN


def test_breaker_forgets_failures_older_than_the_window():
    clock = Clock()
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=100, min_requests=4, window=2), clock=clock)
    for ok in (True, False, False):  # 3 fetches: under min_requests
        breaker.record(ok)
    clock.now += 5
    breaker.record(False)  # with the old three it would be 3 failed of 4
    assert breaker.state is CircuitState.CLOSED


def test_cancelled_probe_frees_its_slot():
    clock = Clock()
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=1, open_duration=1), clock=clock)
    breaker.record(False)
    clock.now += 1
    assert breaker.allow() and not breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_retry_budget_allows_a_floor_plus_a_ratio_of_requests():
    clock = Clock()
    budget = RetryBudget(RetryConfig(budget_ratio=0.5, budget_min_per_second=0.2, budget_window=10), clock)
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]  # floor: 0.2/s * 10 s
    for _ in range(4):
        budget.request()
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]  # + 0.5 * 4 requests
    clock.now += 11  # everything left the window
    assert budget.try_retry() and budget.try_retry() and not budget.try_retry()


def test_backoff_is_exponential_capped_with_equal_jitter():
    config = RetryConfig(backoff_base=0.1, backoff_max=0.5)
    assert [backoff(config, n, lambda: 0.0) for n in (1, 2, 3, 4, 5)] == [0.05, 0.1, 0.2, 0.25, 0.25]
    assert [backoff(config, n, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.5, 0.5]


def _raised_from(cause: BaseException, status: int | None = None) -> TransportError:
    err = TransportError("failed", status=status)
    err.__cause__ = cause
    return err


def test_failure_kinds():
    request = httpx.Request("POST", "http://x")
    assert failure_kind(_raised_from(httpx.ConnectError("refused", request=request))) == "connect"
    assert failure_kind(_raised_from(ConnectionRefusedError())) == "connect"
    assert failure_kind(_raised_from(ConnectionResetError())) == "reset"
    assert failure_kind(_raised_from(httpx.RemoteProtocolError("closed", request=request))) == "reset"
    assert failure_kind(_raised_from(httpx.ReadTimeout("slow", request=request))) == "timeout"
    assert failure_kind(_raised_from(TimeoutError())) == "timeout"
    assert failure_kind(TransportError("HTTP fetch failed: 503", status=503)) == "status"
    assert failure_kind(TransportError("HTTP fetch failed: 500", status=500)) is None
    assert failure_kind(_raised_from(ValueError("not HTTP"))) is None
