"""Client subscriptions: start one (limits, plan, upstream stream), run the plan's rest per event, end it.

Each client subscription owns a queue of raw subgraph events and one worker task that turns them
into responses one at a time, so events reach the client in the order the subgraph sent them even
when an event's entity fetches take longer than the next event's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

from graphql import OperationType, validate

from gateway.config import SubscriptionsConfig
from gateway.errors import (
    SUBGRAPH_UNAVAILABLE,
    GatewayRequestError,
    GraphQLErrorDict,
    error_dict,
)
from gateway.execution import PreparedOperation, coerce_variables
from gateway.observability import metrics
from gateway.planning import SubscriptionNode
from gateway.subscriptions.errors import (
    GATEWAY_SHUTTING_DOWN,
    SUBSCRIPTION_LIMIT_REACHED,
    SUBSCRIPTION_SCHEMA_CHANGED,
    SUBSCRIPTIONS_DISABLED,
    SubscriptionError,
)
from gateway.subscriptions.upstream import Upstream, Upstreams

log = logging.getLogger("fedgate.subscriptions")

_QUEUE_SIZE = 1000  # raw events a slow client may have waiting before the oldest are dropped


class PipelineView(Protocol):
    """What this layer needs from the server's pipeline for one loaded supergraph."""

    supergraph: Any
    executor: Any
    entity_cache: Any

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation: ...


class Connection(Protocol):
    """A client connection holding subscriptions (a WebSocket, or one SSE response)."""

    transport: str

    async def shutdown(self) -> None: ...


# Items a client subscription yields: ("next", response) then at most one ("error", errors),
# and the stream ends (the transport sends `complete`).
Item = tuple[str, Any]
_END = ("end", None)


class ClientSubscription:
    """One client's subscription: reads an upstream, runs the rest of the plan per event."""

    def __init__(
        self,
        service: SubscriptionService,
        pipeline: PipelineView,
        prepared: PreparedOperation,
        variables: dict[str, Any],
        client_headers: Mapping[str, str] | None,
        connection: Connection | None,
    ) -> None:
        assert prepared.plan is not None and isinstance(prepared.plan.node, SubscriptionNode)
        self.service = service
        self.pipeline = pipeline
        self.prepared = prepared
        self.variables = variables
        self.client_headers = client_headers
        self.connection = connection
        self.primary = prepared.plan.node.primary
        self.subgraph = self.primary.service_name
        # Unbounded so the gateway's own end markers always fit; `feed` bounds the events.
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[Item] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.upstream: Upstream | None = None
        self.closed = False
        self.plan_extension: dict[str, Any] | None = None  # sent with the first event
        self._events_out = metrics.SUBSCRIPTION_EVENTS_OUT.labels(self.subgraph)
        self._latency = metrics.SUBSCRIPTION_EVENT_SECONDS.labels(self.subgraph)

    # -- fed by the upstream ---------------------------------------------------------------------

    def feed(self, event: dict[str, Any]) -> None:
        if self._inbox.qsize() >= _QUEUE_SIZE:  # a client this far behind loses the oldest events, not the gateway's memory
            with contextlib.suppress(asyncio.QueueEmpty):
                self._inbox.get_nowait()
        self._inbox.put_nowait(("event", (time.perf_counter(), event)))

    def end(self, failure: str | None) -> None:
        self.upstream = None
        if failure is None:
            self._inbox.put_nowait(("end", None))
            return
        message = f"The subscription stream from subgraph '{self.subgraph}' ended: {failure}"
        error = error_dict(message, SUBGRAPH_UNAVAILABLE, serviceName=self.subgraph)
        self._inbox.put_nowait(("error", [error]))

    def stop(self, errors: list[GraphQLErrorDict] | None) -> None:
        """End this subscription from the gateway's side (reload, shutdown): `errors` then the end."""
        self._leave_upstream()
        self._inbox.put_nowait(("error", errors) if errors else ("end", None))

    # -- the worker ------------------------------------------------------------------------------

    def start(self, routing_url: str, headers: Mapping[str, str]) -> None:
        fetch = self.prepared.fetches[id(self.primary)]
        body = _primary_body(fetch, self.variables)
        self.upstream = self.service.upstreams.join(self, self.subgraph, routing_url, body, headers)
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        pipeline = self.pipeline
        executor = pipeline.executor
        while True:
            kind, value = await self._inbox.get()
            if kind == "event":
                received, event = value
                cache = None
                if pipeline.entity_cache is not None:
                    cache = pipeline.entity_cache.begin(self.prepared, self.client_headers)
                try:
                    response = await executor.execute_event(self.prepared, self.variables, event, None, cache)
                except Exception:  # noqa: BLE001 - one bad event is an error event, the stream goes on
                    log.exception("subscription event failed")
                    response = {"data": None, "errors": [error_dict("Internal error while executing an event.", "INTERNAL_SERVER_ERROR")]}
                if self.plan_extension is not None:
                    response.setdefault("extensions", {})["apolloQueryPlan"] = self.plan_extension
                    self.plan_extension = None
                self._latency.observe(time.perf_counter() - received)
                self._events_out.inc()
                await self._outbox.put(("next", response))
            elif kind == "error":
                await self._outbox.put(("error", value))
                await self._outbox.put(_END)
                return
            else:
                await self._outbox.put(_END)
                return

    async def items(self) -> AsyncIterator[Item]:
        """("next", response) per event, then ("error", errors) if it ended badly; then it stops."""
        try:
            while True:
                item = await self._outbox.get()
                if item is _END or item[0] == "end":
                    return
                yield item
        finally:
            self.close()

    def _leave_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.leave(self)
            self.upstream = None

    def close(self) -> None:
        """Release the upstream, the worker and the counters (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self._leave_upstream()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self.service._forget(self)


def _primary_body(fetch: Any, variables: Mapping[str, Any]) -> bytes:
    import orjson

    parts = [key + orjson.dumps(variables[name]) for name, key in fetch.variables if name in variables]
    return bytes(fetch.body_prefix + b",".join(parts) + b"}}")


class SubscriptionService:
    """Every client subscription of one gateway process: limits, dedup, reload and shutdown."""

    def __init__(self, config: SubscriptionsConfig) -> None:
        self.config = config
        self.upstreams = Upstreams(config)
        self.active: set[ClientSubscription] = set()
        self.per_connection: dict[int, int] = {}
        self.connections: set[Connection] = set()
        self.shutting_down = False
        self._shutdown_done = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- connections -----------------------------------------------------------------------------

    def opened(self, connection: Connection) -> None:
        """A client connection that may hold subscriptions opened."""
        self._loop = asyncio.get_running_loop()
        self.connections.add(connection)
        metrics.SUBSCRIPTION_CONNECTIONS.labels(connection.transport).inc()

    def closed(self, connection: Connection) -> None:
        """It closed (its subscriptions were closed by their readers)."""
        if connection in self.connections:
            self.connections.discard(connection)
            metrics.SUBSCRIPTION_CONNECTIONS.labels(connection.transport).dec()
        self.per_connection.pop(id(connection), None)

    # -- subscriptions ---------------------------------------------------------------------------

    def start(
        self,
        pipeline: PipelineView,
        prepared: PreparedOperation,
        raw_variables: Any,
        client_headers: Mapping[str, str] | None = None,
        connection: Connection | None = None,
        upstream_headers: Mapping[str, str] | None = None,
        plan_extension: dict[str, Any] | None = None,
    ) -> ClientSubscription:
        """Start `prepared` (a subscription); SubscriptionError when it cannot start."""
        if prepared.kind != OperationType.SUBSCRIPTION:
            raise SubscriptionError.of("Not a subscription operation.", "BAD_REQUEST")
        if not self.config.enabled:
            raise SubscriptionError.of("Subscriptions are disabled on this gateway.", SUBSCRIPTIONS_DISABLED)
        if self.shutting_down:
            raise SubscriptionError.of("The gateway is shutting down.", GATEWAY_SHUTTING_DOWN, 503)
        if prepared.plan_error is not None:
            raise SubscriptionError([prepared.plan_error])
        plan = prepared.plan
        if plan is None or not isinstance(plan.node, SubscriptionNode):
            raise SubscriptionError.of("This subscription selects nothing from a subgraph.", "BAD_REQUEST")
        try:
            variables = coerce_variables(prepared.schema, prepared.operation, raw_variables)
        except GatewayRequestError as exc:
            raise SubscriptionError(exc.errors) from exc
        if len(self.active) >= self.config.max_total:
            raise SubscriptionError.of(
                f"The gateway already serves its maximum of {self.config.max_total} subscriptions.",
                SUBSCRIPTION_LIMIT_REACHED,
                429,
            )
        if connection is not None and self.per_connection.get(id(connection), 0) >= self.config.max_per_connection:
            raise SubscriptionError.of(
                f"At most {self.config.max_per_connection} subscriptions may run on one connection.",
                SUBSCRIPTION_LIMIT_REACHED,
                429,
            )
        sub = ClientSubscription(self, pipeline, prepared, variables, client_headers, connection)
        sub.plan_extension = plan_extension
        routing_url = pipeline.supergraph.subgraph_urls.get(sub.subgraph)
        if routing_url is None:
            raise SubscriptionError.of(f"No URL for subgraph '{sub.subgraph}'.", SUBGRAPH_UNAVAILABLE)
        self.active.add(sub)
        if connection is not None:
            self.per_connection[id(connection)] = self.per_connection.get(id(connection), 0) + 1
        metrics.SUBSCRIPTIONS_ACTIVE.labels(sub.subgraph).inc()
        sub.start(routing_url, upstream_headers or {})
        return sub

    def _forget(self, sub: ClientSubscription) -> None:
        if sub in self.active:
            self.active.discard(sub)
            metrics.SUBSCRIPTIONS_ACTIVE.labels(sub.subgraph).dec()
            if sub.connection is not None:
                key = id(sub.connection)
                left = self.per_connection.get(key, 1) - 1
                if left > 0:
                    self.per_connection[key] = left
                else:
                    self.per_connection.pop(key, None)

    # -- lifecycle -------------------------------------------------------------------------------

    def reloaded(self, supergraph: Any) -> int:
        """A new supergraph is served: end the subscriptions whose operation no longer validates
        against it (a removed field, argument or type); the others keep running. Returns how many ended."""
        schema = supergraph.api_schema
        ended = 0
        for sub in list(self.active):
            errors = validate(schema, sub.prepared.document)
            if not errors and sub.subgraph in supergraph.subgraph_urls:
                continue
            reason = errors[0].message if errors else f"subgraph '{sub.subgraph}' left the supergraph"
            message = f"The supergraph changed and this subscription is no longer valid: {reason}"
            sub.stop([error_dict(message, SUBSCRIPTION_SCHEMA_CHANGED)])
            ended += 1
        if ended:
            log.info("supergraph reload ended %d subscriptions whose fields no longer exist", ended)
        return ended

    def begin_shutdown(self) -> Callable[[], bool]:
        """From a signal handler: complete every subscription and close every connection soon.
        Returns a check that is true once that is done (the server waits for it before closing)."""
        self.shutting_down = True
        loop = self._loop
        if loop is None or loop.is_closed() or not self.connections:
            return lambda: True
        loop.call_soon_threadsafe(lambda: loop.create_task(self.shutdown()))
        return lambda: self._shutdown_done

    async def shutdown(self) -> None:
        """Complete every subscription (`complete` to each client) and close every connection."""
        self.shutting_down = True
        for sub in list(self.active):
            sub.stop(None)
        connections = list(self.connections)
        if connections:
            await asyncio.gather(*(c.shutdown() for c in connections), return_exceptions=True)
        self._shutdown_done = True

    async def aclose(self) -> None:
        """At app shutdown: nothing may stay open."""
        await self.shutdown()
        await self.upstreams.aclose()
