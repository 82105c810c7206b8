"""CircuitBreaker: per-subgraph closed -> open -> half-open state, fed with the outcome of each fetch.

A fetch's outcome is counted once, after its retries: a restart gap that retries bridge is not a
failure. The circuit opens after `failure_threshold` consecutive failures, or when the failure ratio
over `window` reaches `error_rate` (with at least `min_requests` fetches). Open, it fails fast for
`open_duration`; then `half_open_probes` fetches go through, and the first outcome decides.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from gateway.config import CircuitBreakerConfig


class CircuitState(StrEnum):
    """The three states; the value is what `/ready` shows."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


# The value of `fedgate_circuit_state{subgraph}` for each state.
STATE_GAUGE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class CircuitBreaker:
    """One subgraph's circuit; `allow()` before a fetch, `record(ok)` after it (only when allowed)."""

    def __init__(
        self,
        config: CircuitBreakerConfig,
        on_change: Callable[[CircuitState], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._on_change = on_change
        self._clock = clock
        self.state = CircuitState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._probes = 0
        # One bucket per second of `window`: [second, fetches, failures].
        self._buckets: deque[list[int]] = deque()

    def allow(self) -> bool:
        """May a fetch go out now? In half-open, True also reserves one probe slot."""
        if not self.config.enabled or self.state is CircuitState.CLOSED:
            return True
        if self.state is CircuitState.OPEN:
            if self._clock() - self._opened_at < self.config.open_duration:
                return False
            self._set(CircuitState.HALF_OPEN)
            self._probes = 0
        if self._probes >= self.config.half_open_probes:
            return False
        self._probes += 1
        return True

    @property
    def probing(self) -> bool:
        """True while half-open: the next fetch is a probe (one attempt, no retries)."""
        return self.state is CircuitState.HALF_OPEN

    def release(self) -> None:
        """Give back a half-open probe slot without an outcome (the probe was cancelled)."""
        self._probes = max(0, self._probes - 1)

    def record(self, ok: bool) -> None:
        """The outcome of one allowed fetch."""
        if not self.config.enabled:
            return
        if self.state is CircuitState.HALF_OPEN:
            self._probes = max(0, self._probes - 1)
            if ok:
                self._reset()
                self._set(CircuitState.CLOSED)
            else:
                self._open()
            return
        if self.state is CircuitState.OPEN:  # a fetch let through before the circuit opened
            return
        bucket = self._bucket()
        bucket[1] += 1
        if ok:
            self._consecutive = 0
            return
        bucket[2] += 1
        self._consecutive += 1
        if self._consecutive >= self.config.failure_threshold:
            self._open()
            return
        total = sum(b[1] for b in self._buckets)
        failed = sum(b[2] for b in self._buckets)
        if total >= self.config.min_requests and failed / total >= self.config.error_rate:
            self._open()

    def _bucket(self) -> list[int]:
        second = int(self._clock())
        buckets = self._buckets
        horizon = second - int(self.config.window)
        while buckets and buckets[0][0] <= horizon:
            buckets.popleft()
        if not buckets or buckets[-1][0] != second:
            buckets.append([second, 0, 0])
        return buckets[-1]

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._reset()
        self._set(CircuitState.OPEN)

    def _reset(self) -> None:
        self._consecutive = 0
        self._buckets.clear()

    def _set(self, state: CircuitState) -> None:
        if state is not self.state:
            self.state = state
            if self._on_change is not None:
                self._on_change(state)
