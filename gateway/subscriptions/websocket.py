"""The graphql-transport-ws protocol on `/graphql` (what graphql-ws, Apollo Client and urql speak).

Close codes are the protocol's: 4400 bad message, 4401 subscribe before ack, 4403 refused at
`connection_init`, 4406 wrong subprotocol, 4408 no `connection_init` in time, 4409 duplicate id,
4429 a second `connection_init`; 4499 a peer that stopped answering pings; 1001 gateway going away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from graphql import OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.config import SubscriptionsConfig
from gateway.subscriptions.errors import SubscriptionError
from gateway.subscriptions.gate import Gate
from gateway.subscriptions.service import SubscriptionService

log = logging.getLogger("fedgate.subscriptions")

SUBPROTOCOL = "graphql-transport-ws"


def init_headers(handshake: Mapping[str, str], payload: Any) -> dict[str, str]:
    """The headers auth and header rules see: the handshake's, overridden by the `connection_init`
    payload (browsers cannot set WebSocket headers, so clients put `Authorization` there, either at
    the top level or under `headers`)."""
    headers = {k.lower(): v for k, v in handshake.items()}
    if isinstance(payload, dict):
        nested = payload.get("headers")
        for source in (payload, nested if isinstance(nested, dict) else {}):
            for key, value in source.items():
                if isinstance(value, str):
                    headers[key.lower()] = value
    return headers


class _Socket:
    """One client WebSocket: its state, its operations, and the tasks that serve them."""

    transport = "ws"

    def __init__(self, ws: WebSocket, service: SubscriptionService, gate: Gate) -> None:
        self.ws = ws
        self.service = service
        self.gate = gate
        self.config: SubscriptionsConfig = service.config
        self.headers: dict[str, str] = {}
        self.acked = False
        self.init_seen = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.last_heard = time.monotonic()
        self.last_busy = time.monotonic()
        self._send_lock = asyncio.Lock()
        self._closed = False

    async def send(self, message: dict[str, Any]) -> None:
        if self._closed:
            return
        async with self._send_lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                await self.ws.send_text(orjson.dumps(message).decode())

    async def close(self, code: int, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self.operations.values()):
            task.cancel()
        async with self._send_lock:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                if self.ws.application_state != WebSocketState.DISCONNECTED:
                    await self.ws.close(code, reason)

    async def shutdown(self) -> None:
        """Gateway going away: `complete` every operation, then close 1001."""
        ids = list(self.operations)
        for task in list(self.operations.values()):
            task.cancel()
        for op_id in ids:
            await self.send({"id": op_id, "type": "complete"})
        await self.close(1001, "Going away")

    # -- the receive loop --------------------------------------------------------------------------

    async def run(self) -> None:
        offered = self.ws.scope.get("subprotocols") or []
        if offered and SUBPROTOCOL not in offered:
            await self.ws.accept()
            self._closed = True
            await self.ws.close(4406, "Subprotocol not acceptable")
            return
        await self.ws.accept(subprotocol=SUBPROTOCOL if offered else None)
        self.service.opened(self)
        timers = asyncio.get_running_loop().create_task(self._timers())
        try:
            while not self._closed:
                try:
                    raw = await self.ws.receive_text()
                except (WebSocketDisconnect, RuntimeError, KeyError):
                    break
                self.last_heard = time.monotonic()
                await self._handle(raw)
        finally:
            timers.cancel()
            self._closed = True
            for task in list(self.operations.values()):
                task.cancel()
            self.service.closed(self)

    async def _timers(self) -> None:
        """Init timeout, heartbeat pings, the dead-peer check and the idle timeout."""
        config = self.config
        started = time.monotonic()
        last_ping = started
        tick = min(0.25, config.init_timeout / 4)
        while not self._closed:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if not self.init_seen:
                if now - started >= config.init_timeout:
                    await self.close(4408, "Connection initialisation timeout")
                    return
                continue
            if now - last_ping >= config.heartbeat_interval:
                last_ping = now
                await self.send({"type": "ping"})
            if now - self.last_heard >= config.heartbeat_timeout:
                await self.close(4499, "Terminated: no answer to pings")
                return
            if self.operations:
                self.last_busy = now
            elif config.idle_timeout is not None and now - self.last_busy >= config.idle_timeout:
                await self.close(1000, "Idle")
                return

    async def _handle(self, raw: str) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.close(4400, "Invalid message received")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            await self.close(4400, f"Invalid message type {kind!r}" if kind else "Invalid message received")

    async def _init(self, payload: Any) -> None:
        if self.init_seen:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_seen = True
        if payload is not None and not isinstance(payload, dict):
            await self.close(4400, "connection_init payload must be an object")
            return
        self.headers = init_headers(self.ws.headers, payload)
        refused = self.gate.admit(self.headers)
        if refused is not None:
            await self.close(4403, f"Forbidden: {refused['message']}"[:120])
            return
        self.acked = True
        await self.send({"type": "connection_ack"})

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.acked:
            await self.close(4401, "Unauthorized")
            return
        op_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            await self.close(4400, "subscribe needs an `id` string and a `payload` object")
            return
        if op_id in self.operations:
            await self.close(4409, f"Subscriber for {op_id} already exists")
            return
        task = asyncio.get_running_loop().create_task(self._operation(op_id, payload))
        self.operations[op_id] = task
        task.add_done_callback(lambda _t: self._done(op_id, task))

    def _done(self, op_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(op_id) is task:
            del self.operations[op_id]
            self.last_busy = time.monotonic()

    async def _operation(self, op_id: str, payload: dict[str, Any]) -> None:
        """Run one `subscribe`: a subscription streams; a query or mutation answers once."""
        query = payload.get("query")
        operation_name = payload.get("operationName") or None
        pipeline = self.gate.pipeline()
        if pipeline is None:
            await self.send({"id": op_id, "type": "error", "payload": [{"message": "No supergraph loaded yet.", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]})
            return
        if not isinstance(query, str) or not query.strip():
            await self.send({"id": op_id, "type": "error", "payload": [{"message": "`query` must be a non-empty string.", "extensions": {"code": "BAD_REQUEST"}}]})
            return
        refused, prepared = self.gate.check(
            self.headers, query, operation_name if isinstance(operation_name, str) else None
        )
        if refused is not None or prepared is None:
            refused = refused or {}
            errors = refused.get("errors")
            if errors and "data" not in refused:
                await self.send({"id": op_id, "type": "error", "payload": errors})
            else:
                await self.send({"id": op_id, "type": "next", "payload": refused})
                await self.send({"id": op_id, "type": "complete"})
            return
        if prepared.kind != OperationType.SUBSCRIPTION:
            body = await self.gate.execute(self.headers, {**payload, "query": query})
            await self.send({"id": op_id, "type": "next", "payload": body})
            await self.send({"id": op_id, "type": "complete"})
            return
        service_name = getattr(getattr(prepared.plan, "node", None), "primary", None)
        upstream_headers = (
            self.gate.upstream_headers(service_name.service_name, self.headers) if service_name is not None else {}
        )
        try:
            sub = self.service.start(
                pipeline,
                prepared,
                payload.get("variables"),
                self.headers,
                self,
                upstream_headers,
                self.gate.plan_extension(self.headers, prepared),
            )
        except SubscriptionError as exc:
            await self.send({"id": op_id, "type": "error", "payload": exc.errors})
            return
        try:
            async for kind, value in sub.items():
                if kind == "next":
                    await self.send({"id": op_id, "type": "next", "payload": value})
                else:  # the stream ended badly: the errors as a last result, then complete
                    await self.send({"id": op_id, "type": "next", "payload": {"errors": value}})
            await self.send({"id": op_id, "type": "complete"})
        finally:
            sub.close()


async def serve_websocket(ws: WebSocket, service: SubscriptionService, gate: Gate) -> None:
    """Serve one client WebSocket until it or the gateway closes it."""
    await _Socket(ws, service, gate).run()
