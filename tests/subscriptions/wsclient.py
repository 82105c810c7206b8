"""A small graphql-transport-ws client for the tests (the npm `graphql-ws` client is driven too)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class Socket:
    """One open graphql-transport-ws connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        """The next message that is not a server ping (pings are answered)."""
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.recv()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})

    async def closed(self, timeout: float = 10) -> tuple[int | None, str]:
        """Wait for the server to close; (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as exc:
            rcvd = exc.rcvd
            return (rcvd.code if rcvd else None, rcvd.reason if rcvd else "")

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Every message that arrives within `seconds` (to show nothing more came)."""
        got: list[dict[str, Any]] = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except TimeoutError:
            return got


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1)


def open_socket(http_url: str, subprotocols: list[str] | None = None) -> Any:
    """`async with open_socket(gateway.url) as raw:` then `Socket(raw)`."""
    return connect(ws_url(http_url), subprotocols=subprotocols or [PROTOCOL])  # type: ignore[arg-type]


async def mutate(http_url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(http_url, json={"query": query, "variables": variables or {}})
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body


PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""
PLACE_INPUT = {
    "customerId": "1",
    "restaurantId": "1",
    "items": [{"menuItemId": "1", "quantity": 1}],
    "deliveryAddress": {"street": "Unter den Linden 1", "city": "Berlin", "postalCode": "10117"},
}


async def place_order(http_url: str) -> str:
    """A new order, once the saga has made it PAID (so tests sharing a stack never touch each
    other's orders, and the restaurant can approve it right away)."""
    body = await mutate(http_url, PLACE, {"input": PLACE_INPUT})
    order_id: str = body["data"]["placeOrder"]["id"]
    for _ in range(200):
        found = await mutate(http_url, "query($id: ID!) { order(id: $id) { status } }", {"id": order_id})
        if found["data"]["order"]["status"] == "PAID":
            return order_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} was not paid within 10 s")
