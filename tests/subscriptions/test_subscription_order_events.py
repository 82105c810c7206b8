"""What a frontend watching an order sees: one event per status change, joined across subgraphs,
over graphql-transport-ws and over SSE."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from wsclient import Socket, mutate, open_socket, place_order

WATCH = """
subscription Watch($id: ID) {
  orderStatusChanged(id: $id) { status isPaid payment { status } delivery { agent { name } } }
}
"""


async def test_one_event_per_status_change_joined_with_payments_and_delivery(gateway) -> None:
    order = await place_order(gateway.url)
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        assert await ws.init() == {"type": "connection_ack"}
        await ws.subscribe("watch", WATCH, {"id": order})
        await asyncio.sleep(1.0)  # the gateway opens its stream to orders

        # The saga paid it before we subscribed (place_order waits for PAID): the next event shows it.
        await mutate(gateway.url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
        approved = await ws.recv()
        assert approved == {
            "id": "watch",
            "type": "next",
            "payload": {
                "data": {
                    "orderStatusChanged": {
                        "status": "APPROVED",
                        "isPaid": True,
                        "payment": {"status": "CAPTURED"},
                        "delivery": None,
                    }
                }
            },
        }
        await mutate(gateway.url, "mutation($id: ID!) { assignAgent(orderId: $id) { id } }", {"id": order})
        await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": order})
        cancelled = await ws.recv()
        event = cancelled["payload"]["data"]["orderStatusChanged"]
        assert event["status"] == "CANCELLED"
        # The saga refunds a cancelled order's payment; the event shows it before or after the refund.
        assert event["payment"]["status"] in ("CAPTURED", "REFUNDED")
        assert event["isPaid"] is (event["payment"]["status"] == "CAPTURED")
        assert event["delivery"]["agent"]["name"]  # the agent assigned between the two events
        assert await ws.quiet(0.5) == []  # exactly one event per change

        await ws.send({"id": "watch", "type": "complete"})
        assert await ws.quiet(0.3) == []


async def test_the_issue_query_on_order_1(gateway) -> None:
    """The seeded order 1 is approved, paid and delivered by Kai Becker; cancelling it is one event."""
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe(
            "1",
            'subscription { orderStatusChanged(id: "1") { status isPaid payment { status } delivery { agent { name } } } }',
        )
        await asyncio.sleep(1.0)
        await mutate(gateway.url, 'mutation { cancelOrder(id: "1") { id } }')
        message = await ws.recv()
    event = message["payload"]["data"]["orderStatusChanged"]
    # The saga refunds a cancelled order's payment; the event shows it before or after the refund.
    payment = event.pop("payment")
    assert payment["status"] in ("CAPTURED", "REFUNDED")
    assert event == {
        "status": "CANCELLED",
        "isPaid": payment["status"] == "CAPTURED",
        "delivery": {"agent": {"name": "Kai Becker"}},
    }


async def _sse_events(url: str, body: dict[str, Any], out: list[dict[str, Any]], ready: asyncio.Event,
                      headers: dict[str, str] | None = None) -> list[str]:
    kinds: list[str] = []
    async with httpx.AsyncClient(timeout=None) as client:
        async with client.stream(
            "POST", url, json=body, headers={"accept": "text/event-stream", **(headers or {})}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            ready.set()
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    kinds.append(event)
                elif line.startswith("data:") and event == "next":
                    out.append(json.loads(line[5:]))
                elif line == "" and event == "complete":
                    break
    return kinds


async def test_same_events_over_sse(gateway) -> None:
    order = await place_order(gateway.url)
    events: list[dict[str, Any]] = []
    ready = asyncio.Event()
    reader = asyncio.create_task(
        _sse_events(gateway.url, {"query": WATCH, "variables": {"id": order}}, events, ready,
                    {"apollo-expose-query-plan": "true"})
    )
    await asyncio.wait_for(ready.wait(), 10)
    await asyncio.sleep(1.0)
    await mutate(gateway.url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
    await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": order})
    for _ in range(100):
        if len(events) == 2:
            break
        await asyncio.sleep(0.05)
    reader.cancel()
    assert [e["data"]["orderStatusChanged"]["status"] for e in events] == ["APPROVED", "CANCELLED"]
    assert events[0]["data"]["orderStatusChanged"]["payment"] == {"status": "CAPTURED"}
    # Apollo-Expose-Query-Plan: the first event carries the Subscription plan node.
    plan = events[0]["extensions"]["apolloQueryPlan"]
    assert plan["object"]["node"]["kind"] == "Subscription"
    assert "Primary: {" in plan["text"] and "Rest: {" in plan["text"]
    assert "extensions" not in events[1]


async def test_queries_mutations_and_many_subscriptions_on_one_socket(gateway) -> None:
    first, second = await place_order(gateway.url), await place_order(gateway.url)
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.send({"type": "ping"})
        assert await ws.recv() == {"type": "pong"}
        await ws.subscribe("a", "subscription($id: ID) { orderStatusChanged(id: $id) { id status } }", {"id": first})
        await ws.subscribe("b", "subscription($id: ID) { orderStatusChanged(id: $id) { id status } }", {"id": second})
        await ws.subscribe("q", 'query($id: ID!) { order(id: $id) { status } }', {"id": first})
        assert await ws.recv() == {"id": "q", "type": "next", "payload": {"data": {"order": {"status": "PAID"}}}}
        assert await ws.recv() == {"id": "q", "type": "complete"}
        await asyncio.sleep(1.0)
        await ws.subscribe("m", "mutation($id: ID!) { approveOrder(id: $id) { status } }", {"id": second})
        got = [await ws.recv() for _ in range(3)]
        assert {"id": "m", "type": "next", "payload": {"data": {"approveOrder": {"status": "APPROVED"}}}} in got
        assert {"id": "m", "type": "complete"} in got
        assert {"id": "b", "type": "next", "payload": {"data": {"orderStatusChanged": {"id": second, "status": "APPROVED"}}}} in got
        await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": first})
        assert await ws.recv() == {
            "id": "a", "type": "next", "payload": {"data": {"orderStatusChanged": {"id": first, "status": "CANCELLED"}}}
        }
        # A request error ends only that operation, with `error`.
        await ws.subscribe("bad", "subscription { orderStatusChanged { nope } }")
        error = await ws.recv()
        assert error["id"] == "bad" and error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_subscription_over_plain_post_says_which_transport_to_use(gateway) -> None:
    response = httpx.post(gateway.url, json={"query": "subscription { orderStatusChanged { id } }"}, timeout=10)
    assert response.status_code == 406
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIPTION_TRANSPORT_REQUIRED"
    assert "graphql-transport-ws" in error["message"] and "text/event-stream" in error["message"]
