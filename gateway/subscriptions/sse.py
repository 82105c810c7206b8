"""GraphQL over SSE, "distinct connections" mode: one POST (or GET) with `accept: text/event-stream`
is one operation; events are `event: next` with the response as `data`, then `event: complete`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from graphql import OperationType
from starlette.responses import Response, StreamingResponse

from gateway.errors import error_dict
from gateway.subscriptions.errors import SubscriptionError
from gateway.subscriptions.gate import Gate
from gateway.subscriptions.service import ClientSubscription, SubscriptionService

EVENT_STREAM = "text/event-stream"
_COMPLETE = b"event: complete\ndata:\n\n"


def wants_event_stream(accept: str) -> bool:
    """Does the client ask for GraphQL over SSE?"""
    return EVENT_STREAM in accept


def _event(payload: Any) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(payload) + b"\n\n"


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class _Stream:
    """One SSE response holding one subscription."""

    transport = "sse"

    def __init__(self, service: SubscriptionService) -> None:
        self.service = service
        self.sub: ClientSubscription | None = None
        self.done = asyncio.Event()

    async def shutdown(self) -> None:
        """Gateway going away: the stream sends `complete` and ends."""
        if self.sub is not None:
            self.sub.stop(None)
        self.done.set()

    async def events(self, heartbeat: float) -> AsyncIterator[bytes]:
        assert self.sub is not None
        items = self.sub.items().__aiter__()
        try:
            while True:
                nxt = asyncio.ensure_future(items.__anext__())
                while True:
                    finished, _ = await asyncio.wait({nxt}, timeout=heartbeat)
                    if finished:
                        break
                    yield b":\n\n"  # keeps proxies from closing an idle stream
                try:
                    kind, value = nxt.result()
                except StopAsyncIteration:
                    break
                yield _event(value if kind == "next" else {"errors": value})
            yield _COMPLETE
        finally:
            with contextlib.suppress(Exception):
                await items.aclose()  # type: ignore[attr-defined]
            self.sub.close()
            self.service.closed(self)


async def serve_sse(
    service: SubscriptionService, gate: Gate, headers: Mapping[str, str], payload: dict[str, Any]
) -> Response:
    """Answer one GraphQL-over-SSE request: request errors as JSON (4xx), else the event stream."""
    pipeline = gate.pipeline()
    if pipeline is None:
        return _json(503, {"errors": [error_dict("No supergraph loaded yet.", "SERVICE_UNAVAILABLE")]})
    query = payload.get("query")
    operation_name = payload.get("operationName") or None
    if not isinstance(query, str) or not query.strip():
        return _json(400, {"errors": [error_dict("`query` must be a non-empty string.", "BAD_REQUEST")]})
    if operation_name is not None and not isinstance(operation_name, str):
        return _json(400, {"errors": [error_dict("`operationName` must be a string.", "BAD_REQUEST")]})
    refused, prepared = gate.check(headers, query, operation_name)
    if refused is not None or prepared is None:
        refused = refused or {}
        return _json(400 if "data" not in refused else 200, refused)
    if prepared.kind != OperationType.SUBSCRIPTION:
        body = await gate.execute(headers, {**payload, "query": query})

        async def single() -> AsyncIterator[bytes]:
            yield _event(body)
            yield _COMPLETE

        return StreamingResponse(single(), media_type=EVENT_STREAM, headers={"cache-control": "no-cache"})
    stream = _Stream(service)
    primary = prepared.plan.node.primary  # type: ignore[union-attr]
    try:
        stream.sub = service.start(
            pipeline,
            prepared,
            payload.get("variables"),
            headers,
            None,
            gate.upstream_headers(primary.service_name, headers),
            gate.plan_extension(headers, prepared),
        )
    except SubscriptionError as exc:
        return _json(exc.status, {"errors": exc.errors})
    service.opened(stream)
    return StreamingResponse(
        stream.events(service.config.heartbeat_interval),
        media_type=EVENT_STREAM,
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
