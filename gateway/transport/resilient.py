"""ResilientTransport: retries, a circuit breaker per subgraph and in-flight dedup over a base client.

Order for one fetch: dedup (identical concurrent query fetches share one call) -> circuit breaker
(fail fast while open) -> attempts with backoff until success, a non-retryable answer, `max_attempts`,
the retry budget or the fetch's `timeout`. A fetch that fails for good raises TransportError with
code SUBGRAPH_UNAVAILABLE when the subgraph could not be reached or answered 502/503/504.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.config import SubgraphTrafficConfig, TrafficShapingConfig
from gateway.errors import SUBGRAPH_UNAVAILABLE
from gateway.transport.breaker import STATE_GAUGE, CircuitBreaker, CircuitState
from gateway.transport.client import FetchRequest, SubgraphResponse, Transport, TransportError
from gateway.transport.retry import RETRYABLE_STATUS, RetryBudget, backoff, failure_kind

log = logging.getLogger("fedgate.transport")

@dataclass(slots=True)
class _Subgraph:
    name: str
    config: SubgraphTrafficConfig
    breaker: CircuitBreaker
    budget: RetryBudget


@dataclass(slots=True)
class _Shared:
    """One upstream call and the number of fetches waiting on it."""

    task: asyncio.Future[SubgraphResponse]
    waiters: int = 0


_DedupKey = tuple[str, str, bytes, tuple[tuple[str, str], ...]]


class ResilientTransport:
    """Transport that adds retries, circuit breaking and dedup to `base` (SubgraphClient, NativeClient)."""

    def __init__(self, base: Transport, traffic: TrafficShapingConfig | None = None) -> None:
        self.base = base
        self.traffic = traffic or TrafficShapingConfig()
        self._subgraphs: dict[str, _Subgraph] = {}
        self._inflight: dict[_DedupKey, _Shared] = {}
        self._ignored = frozenset(h.lower() for h in self.traffic.dedup_ignore_headers)

    def _subgraph(self, name: str) -> _Subgraph:
        sub = self._subgraphs.get(name)
        if sub is None:
            config = self.traffic.for_subgraph(name)

            def on_change(state: CircuitState) -> None:
                _set_gauge(name, state)
                log.warning("circuit for subgraph %r is now %s", name, state.value)

            sub = self._subgraphs[name] = _Subgraph(
                name, config, CircuitBreaker(config.circuit_breaker, on_change), RetryBudget(config.retry)
            )
            _set_gauge(name, CircuitState.CLOSED)
        return sub

    def circuit_states(self) -> dict[str, str]:
        """Circuit state of every subgraph called so far (`closed`, `open`, `half_open`)."""
        return {name: sub.breaker.state.value for name, sub in self._subgraphs.items()}

    async def fetch(self, request: FetchRequest) -> SubgraphResponse:
        """Send `request` with retries, circuit breaking and dedup; raise TransportError on failure."""
        sub = self._subgraph(request.subgraph)
        if request.is_mutation or not sub.config.deduplicate_query:
            return await self._fetch(sub, request)
        headers = request.headers
        varying = tuple(sorted((k, v) for k, v in headers.items() if k.lower() not in self._ignored)) if headers else ()
        key: _DedupKey = (request.subgraph, request.url, request.body, varying)
        shared = self._inflight.get(key)
        if shared is None:
            task = asyncio.ensure_future(self._fetch(sub, request))
            shared = self._inflight[key] = _Shared(task)
            # Registered first, so it runs before any waiter resumes: no one joins a finished call.
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        shared.waiters += 1
        try:
            response = await asyncio.shield(shared.task)
        except BaseException:
            shared.waiters -= 1
            raise
        shared.waiters -= 1
        if shared.waiters == 0:
            return response  # the last one takes the parsed body itself
        # The executor merges response bodies into its own data: every other waiter gets a copy,
        # parsed again from the bytes when the client kept them (one parse, not a dump and a parse).
        raw = response.raw if response.raw is not None else orjson.dumps(response.body)
        return response._replace(body=orjson.loads(raw))

    async def _fetch(self, sub: _Subgraph, request: FetchRequest) -> SubgraphResponse:
        name = sub.name
        mutation = request.is_mutation
        breaker = sub.breaker
        if not breaker.allow():
            raise TransportError(f"HTTP fetch failed from '{name}': circuit open", SUBGRAPH_UNAVAILABLE, kind="circuit_open")
        probing = breaker.probing
        retry = sub.config.retry
        max_attempts = 1 if probing or not retry.enabled or (mutation and not retry.retry_mutations) else retry.max_attempts
        sub.budget.request()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + sub.config.timeout
        attempt = 0
        last: SubgraphResponse | TransportError | None = None
        while True:
            attempt += 1
            if last is not None and loop.time() >= deadline:  # the backoff used up the fetch's time
                breaker.record(False)
                if isinstance(last, SubgraphResponse):
                    return last
                raise _unavailable(last)
            failure: TransportError
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self.base.fetch(request)
            except TimeoutError:
                failure = TransportError(
                    f"HTTP fetch failed from '{name}': request timed out", SUBGRAPH_UNAVAILABLE, kind="timeout"
                )
                kind: str | None = "timeout"
            except TransportError as exc:
                failure = exc
                kind = failure_kind(exc)
            except asyncio.CancelledError:
                if probing:
                    breaker.release()  # a cancelled probe decides nothing, but must free its slot
                raise
            else:
                if response.status not in RETRYABLE_STATUS:
                    breaker.record(response.status < 500)
                    return response
                if attempt >= max_attempts or loop.time() >= deadline or not sub.budget.try_retry():
                    breaker.record(False)
                    return response  # the subgraph's own answer (and its error codes) for the executor
                _count_retry(name, "retried")
                last = response
                await self._sleep(retry, attempt, deadline)
                continue
            if kind is None:  # the subgraph answered, badly (not JSON, 4xx): retrying will not help
                breaker.record(not (failure.status or 0) >= 500)
                raise failure
            if attempt >= max_attempts or loop.time() >= deadline:
                breaker.record(False)
                raise _unavailable(failure)
            if not sub.budget.try_retry():
                _count_retry(name, "budget_exhausted")
                breaker.record(False)
                raise _unavailable(failure)
            _count_retry(name, "retried")
            last = failure
            await self._sleep(retry, attempt, deadline)

    @staticmethod
    async def _sleep(retry: Any, attempt: int, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, min(backoff(retry, attempt), deadline - loop.time())))

    async def aclose(self) -> None:
        """Close the base client's connections."""
        close = getattr(self.base, "aclose", None)
        if close is not None:
            await close()


def _unavailable(failure: TransportError) -> TransportError:
    if failure.code == SUBGRAPH_UNAVAILABLE:
        return failure
    err = TransportError(failure.message, SUBGRAPH_UNAVAILABLE, failure.status, failure.kind)
    err.__cause__ = failure.__cause__
    return err


def _set_gauge(name: str, state: CircuitState) -> None:
    from gateway.observability.metrics import CIRCUIT_STATE

    CIRCUIT_STATE.labels(subgraph=name).set(STATE_GAUGE[state])


def _count_retry(name: str, decision: str) -> None:
    from gateway.observability.metrics import SUBGRAPH_RETRIES

    SUBGRAPH_RETRIES.labels(subgraph=name, decision=decision).inc()
