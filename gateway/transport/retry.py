"""Retry policy pieces: which failures are retryable, backoff delays, and the retry budget."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

import httpx

from gateway.config import RetryConfig
from gateway.transport.client import TransportError

RETRYABLE_STATUS = frozenset({502, 503, 504})


def failure_kind(exc: BaseException) -> str | None:
    """`connect`, `reset`, `timeout` or `status` for a failure worth retrying; None otherwise.

    Looks at the exception a TransportError was raised from, so it works for every base client.
    """
    if isinstance(exc, TransportError):
        if exc.status in RETRYABLE_STATUS:
            return "status"
        cause = exc.__cause__
        if cause is None:
            return None
        return failure_kind(cause)
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if isinstance(exc, (ConnectionRefusedError, httpx.ConnectError)):
        return "connect"
    if isinstance(exc, (ConnectionError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "reset"
    if type(exc).__name__ == "_Closed":  # NativeClient: the connection closed before a full response
        return "reset"
    if isinstance(exc, OSError):  # e.g. EHOSTUNREACH, ENETUNREACH while an address comes and goes
        return "connect"
    return None


def backoff(config: RetryConfig, retry: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `retry` (1-based): "equal jitter" exponential backoff.

    Half of the capped exponential delay is fixed, half is random, so retries spread out but the
    sequence still spans a predictable time (enough to bridge a subgraph restart).
    """
    delay = min(config.backoff_max, config.backoff_base * (2 ** (retry - 1)))
    return delay / 2 + rng() * delay / 2


class RetryBudget:
    """Retries may add at most `budget_ratio` of the requests sent in the last `budget_window`
    seconds, plus `budget_min_per_second`: retries cannot multiply the load on a struggling subgraph."""

    def __init__(self, config: RetryConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        # One bucket per second: [second, requests, retries].
        self._buckets: deque[list[int]] = deque()

    def _bucket(self) -> list[int]:
        second = int(self._clock())
        buckets = self._buckets
        horizon = second - int(self.config.budget_window)
        while buckets and buckets[0][0] <= horizon:
            buckets.popleft()
        if not buckets or buckets[-1][0] != second:
            buckets.append([second, 0, 0])
        return buckets[-1]

    def request(self) -> None:
        """Count one original (non-retry) request."""
        self._bucket()[1] += 1

    def try_retry(self) -> bool:
        """Take one retry from the budget; False when it is spent."""
        bucket = self._bucket()
        requests = sum(b[1] for b in self._buckets)
        retries = sum(b[2] for b in self._buckets)
        allowed = self.config.budget_min_per_second * self.config.budget_window + self.config.budget_ratio * requests
        if retries + 1 > allowed:
            return False
        bucket[2] += 1
        return True
