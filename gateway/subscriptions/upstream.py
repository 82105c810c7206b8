"""Streams from subgraphs: one graphql-transport-ws (or SSE) subscription per distinct primary fetch.

An `Upstream` reads one subgraph stream and hands every event to its listeners; `Upstreams` keeps
them by (subgraph, URL, request body, forwarded headers) so identical client subscriptions share
one stream (dedup), and closes a stream when its last listener leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import httpx
import orjson
import websockets
from websockets.asyncio.client import connect

from gateway.config import SubgraphSubscriptionConfig, SubscriptionsConfig
from gateway.observability import metrics

log = logging.getLogger("fedgate.subscriptions")

_ACK_TIMEOUT = 10.0


class StreamEnded(Exception):
    """The subgraph stream failed or closed before it said `complete`."""


class Listener(Protocol):
    """What an upstream feeds: a client subscription."""

    def feed(self, event: dict[str, Any]) -> None: ...

    def end(self, failure: str | None) -> None: ...


def stream_url(routing_url: str, sub: SubgraphSubscriptionConfig) -> str:
    """Where to open the stream: the configured URL, else the routing URL (as ws:// for `ws`)."""
    if sub.url:
        return sub.url
    if sub.protocol == "ws":
        if routing_url.startswith("https://"):
            return "wss://" + routing_url[len("https://") :]
        if routing_url.startswith("http://"):
            return "ws://" + routing_url[len("http://") :]
    return routing_url


async def _ws_events(url: str, body: bytes, headers: Mapping[str, str], heartbeat: float) -> AsyncIterator[dict[str, Any]]:
    """graphql-transport-ws: init, subscribe as id "1", yield each `next` payload until `complete`."""
    try:
        async with connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=dict(headers),
            open_timeout=_ACK_TIMEOUT,
            ping_interval=heartbeat,
            ping_timeout=heartbeat,
            max_size=2**24,
        ) as ws:
            await ws.send(b'{"type":"connection_init","payload":{}}', text=True)
            while True:
                ack = orjson.loads(await asyncio.wait_for(ws.recv(), _ACK_TIMEOUT))
                if ack.get("type") == "connection_ack":
                    break
                if ack.get("type") == "ping":
                    await ws.send(b'{"type":"pong"}', text=True)
            await ws.send(b'{"id":"1","type":"subscribe","payload":' + body + b"}", text=True)
            async for raw in ws:
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message.get("payload")
                    yield payload if isinstance(payload, dict) else {"data": None}
                elif kind == "error":
                    errors = message.get("payload")
                    yield {"data": None, "errors": errors if isinstance(errors, list) else [errors]}
                    return
                elif kind == "complete":
                    return
                elif kind == "ping":
                    await ws.send(b'{"type":"pong"}', text=True)
            raise StreamEnded("the subgraph closed the WebSocket")
    except websockets.ConnectionClosed as exc:
        raise StreamEnded(f"the WebSocket closed ({exc.rcvd.code if exc.rcvd else 1006})") from exc
    except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
        raise StreamEnded(f"cannot open the WebSocket: {exc or type(exc).__name__}") from exc


async def _sse_events(
    client: httpx.AsyncClient, url: str, body: bytes, headers: Mapping[str, str]
) -> AsyncIterator[dict[str, Any]]:
    """GraphQL over SSE (distinct connections): POST, then `next` events until `complete`."""
    request_headers = {**headers, "accept": "text/event-stream", "content-type": "application/json"}
    try:
        async with client.stream("POST", url, content=body, headers=request_headers, timeout=None) as response:
            if response.status_code != 200:
                raise StreamEnded(f"the subgraph answered HTTP {response.status_code}")
            event, data = "message", ""
            async for line in response.aiter_lines():
                if line == "":
                    if event == "complete":
                        return
                    if data:
                        payload = orjson.loads(data)
                        yield payload if isinstance(payload, dict) else {"data": None}
                    event, data = "message", ""
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
            raise StreamEnded("the subgraph closed the event stream")
    except httpx.HTTPError as exc:
        raise StreamEnded(f"the event stream failed: {exc or type(exc).__name__}") from exc


class Upstream:
    """One open stream to a subgraph and the client subscriptions listening to it."""

    def __init__(self, owner: Upstreams, key: tuple[Any, ...], service: str, url: str, body: bytes,
                 headers: Mapping[str, str], protocol: str) -> None:
        self.owner = owner
        self.key = key
        self.service = service
        self.url = url
        self.body = body
        self.headers = headers
        self.protocol = protocol
        self.listeners: set[Listener] = set()
        self.task: asyncio.Task[None] | None = None
        self._events_in = metrics.SUBSCRIPTION_EVENTS_IN.labels(service)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())
        metrics.SUBSCRIPTION_UPSTREAMS.labels(self.service).inc()

    async def _run(self) -> None:
        failure: str | None = None
        try:
            if self.protocol == "sse":
                events = _sse_events(self.owner.http, self.url, self.body, self.headers)
            else:
                events = _ws_events(self.url, self.body, self.headers, self.owner.config.heartbeat_interval)
            async for event in events:
                self._events_in.inc()
                for listener in list(self.listeners):
                    listener.feed(event)
        except StreamEnded as exc:
            failure = str(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad frame ends this stream, not the gateway
            log.exception("subscription stream from %s failed", self.service)
            failure = f"unreadable stream ({type(exc).__name__})"
        finally:
            self.owner._forget(self)
        for listener in list(self.listeners):
            listener.end(failure)
        self.listeners.clear()

    def leave(self, listener: Listener) -> None:
        """`listener` is done; the stream closes with its last listener."""
        self.listeners.discard(listener)
        if not self.listeners:
            self.owner._forget(self)
            if self.task is not None and not self.task.done():
                self.task.cancel()


class Upstreams:
    """The open subgraph streams of one gateway, shared between identical subscriptions when allowed."""

    def __init__(self, config: SubscriptionsConfig) -> None:
        self.config = config
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=_ACK_TIMEOUT))
        self._open: dict[tuple[Any, ...], Upstream] = {}
        self._counter = 0

    def join(self, listener: Listener, service: str, routing_url: str, body: bytes,
             headers: Mapping[str, str]) -> Upstream:
        """The stream `listener` should read: an identical open one, or a new one."""
        sub = self.config.for_subgraph(service)
        url = stream_url(routing_url, sub)
        key: tuple[Any, ...] = (service, url, body, tuple(sorted(headers.items())))
        if not self.config.deduplicate:
            self._counter += 1
            key = (*key, self._counter)
        upstream = self._open.get(key)
        if upstream is None:
            upstream = Upstream(self, key, service, url, body, headers, sub.protocol)
            self._open[key] = upstream
            upstream.start()
        upstream.listeners.add(listener)
        return upstream

    def _forget(self, upstream: Upstream) -> None:
        if self._open.get(upstream.key) is upstream:
            del self._open[upstream.key]
            metrics.SUBSCRIPTION_UPSTREAMS.labels(upstream.service).dec()

    def count(self) -> int:
        """Streams open to subgraphs now."""
        return len(self._open)

    async def aclose(self) -> None:
        """Close every stream and the HTTP client."""
        tasks = [u.task for u in self._open.values() if u.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.http.aclose()
