"""Subscriptions through failures and changes: a subgraph dies, the supergraph changes, the gateway
stops; and identical subscriptions sharing one subgraph stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_subscription_order_events import _sse_events
from wsclient import Socket, mutate, open_socket, place_order


def _metric(gateway: Any, name: str, subgraph: str) -> float:
    text = httpx.get(gateway.base_url + "/metrics", timeout=5).text
    found = re.search(rf'^{name}\{{subgraph="{subgraph}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def _assigned_delivery(url: str) -> tuple[str, str]:
    """(order id, delivery id) of a new order that has an agent."""
    order = await place_order(url)
    await mutate(url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
    body = await mutate(url, "mutation($id: ID!) { assignAgent(orderId: $id) { id } }", {"id": order})
    return order, body["data"]["assignAgent"]["id"]


LOCATION = """subscription($d: ID!) {
  agentLocation(deliveryId: $d) { latitude longitude agent { name } delivery { order { status } } }
}"""
REPORT = "mutation($d: ID!) { reportAgentLocation(deliveryId: $d, latitude: 52.52, longitude: 13.4) { at } }"


@pytest.fixture
def own_stack(fresh_stack):
    return fresh_stack


async def test_a_killed_subgraph_ends_only_the_subscriptions_that_depend_on_it(own_stack, gateway_for) -> None:
    gateway = gateway_for(own_stack)
    order, delivery = await _assigned_delivery(gateway.url)
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe("loc", LOCATION, {"d": delivery})
        await ws.subscribe("order", "subscription($id: ID) { orderStatusChanged(id: $id) { status } }", {"id": order})
        located = None
        for _ in range(10):  # a position reported before the subgraph stream is set up is nobody's
            await mutate(gateway.url, REPORT, {"d": delivery})
            with contextlib.suppress(TimeoutError):
                located = await ws.recv(1.0)
                break
        assert located is not None and located["id"] == "loc"
        # delivery's event joined with orders' data (the order's status) by the rest of the plan
        assert located["payload"]["data"]["agentLocation"]["delivery"] == {"order": {"status": "APPROVED"}}
        assert located["payload"]["data"]["agentLocation"]["latitude"] == 52.52

        os.kill(own_stack["delivery"].pid, signal.SIGKILL)
        own_stack["delivery"].process.wait(5)
        ended = await ws.recv()
        while "data" in ended.get("payload", {}):  # a later position of the retries above
            ended = await ws.recv()
        assert ended["id"] == "loc" and ended["type"] == "next"
        error = ended["payload"]["errors"][0]
        assert error["extensions"] == {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "delivery"}
        assert "delivery" in error["message"]
        assert await ws.recv() == {"id": "loc", "type": "complete"}

        # The subscription on orders runs on.
        await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": order})
        assert await ws.recv() == {
            "id": "order", "type": "next", "payload": {"data": {"orderStatusChanged": {"status": "CANCELLED"}}}
        }


async def test_reload_ends_subscriptions_whose_fields_are_gone_and_keeps_the_rest(stack, gateway_for) -> None:
    gateway = gateway_for(stack)
    order, delivery = await _assigned_delivery(gateway.url)
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe("loc", LOCATION, {"d": delivery})
        await ws.subscribe("order", "subscription($id: ID) { orderStatusChanged(id: $id) { status } }", {"id": order})
        await asyncio.sleep(1.0)
        sdl_path = Path(gateway.log_path).parent / "gateway.graphql"
        sdl_path.write_text(sdl_path.read_text().replace("agentLocation(", "agentPosition("))
        ended = await ws.recv(15)
        assert ended["id"] == "loc"
        error = ended["payload"]["errors"][0]
        assert error["extensions"]["code"] == "SUBSCRIPTION_SCHEMA_CHANGED"
        assert "agentLocation" in error["message"]
        assert await ws.recv() == {"id": "loc", "type": "complete"}
        await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": order})
        assert (await ws.recv())["payload"] == {"data": {"orderStatusChanged": {"status": "CANCELLED"}}}


async def test_sigterm_completes_every_subscription_then_exits_0(stack, gateway_for) -> None:
    gateway = gateway_for(stack)
    sse_events: list[dict[str, Any]] = []
    ready = asyncio.Event()
    sse = asyncio.create_task(
        _sse_events(gateway.url, {"query": "subscription { orderStatusChanged { id } }"}, sse_events, ready)
    )
    await asyncio.wait_for(ready.wait(), 10)
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe("a", "subscription { orderStatusChanged { id } }")
        await ws.subscribe("b", 'subscription { orderStatusChanged(id: "2") { status } }')
        await asyncio.sleep(1.0)
        os.kill(gateway.process.pid, signal.SIGTERM)
        got = [await ws.recv(), await ws.recv()]
        assert sorted(m["id"] for m in got) == ["a", "b"]
        assert all(m["type"] == "complete" for m in got)
        code, reason = await ws.closed()
        assert code == 1001
    kinds = await asyncio.wait_for(sse, 10)
    assert kinds == ["complete"]
    assert await asyncio.to_thread(gateway.process.wait, 15) == 0


async def test_identical_subscriptions_share_one_subgraph_stream(stack, gateway_for) -> None:
    gateway = gateway_for(stack)
    order = await place_order(gateway.url)
    query = "subscription($id: ID) { orderStatusChanged(id: $id) { status isPaid } }"
    async with open_socket(gateway.url) as raw1, open_socket(gateway.url) as raw2:
        one, two = Socket(raw1), Socket(raw2)
        await one.init()
        await two.init()
        await one.subscribe("1", query, {"id": order})
        await two.subscribe("1", query, {"id": order})
        await two.subscribe("other", query, {"id": "999"})  # other variables: its own stream
        await asyncio.sleep(1.0)
        assert _metric(gateway, "fedgate_subscriptions_active", "orders") == 3
        assert _metric(gateway, "fedgate_subscription_upstreams", "orders") == 2
        await mutate(gateway.url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
        expected = {"data": {"orderStatusChanged": {"status": "APPROVED", "isPaid": True}}}
        assert (await one.recv())["payload"] == expected
        assert (await two.recv())["payload"] == expected
        await one.send({"id": "1", "type": "complete"})
        await asyncio.sleep(0.2)
        assert _metric(gateway, "fedgate_subscription_upstreams", "orders") == 2  # two still reads it
    await asyncio.sleep(1.0)
    assert _metric(gateway, "fedgate_subscription_upstreams", "orders") == 0
    assert _metric(gateway, "fedgate_subscriptions_active", "orders") == 0
    assert _metric(gateway, "fedgate_subscription_events_out_total", "orders") == 2


async def test_without_dedup_every_subscription_has_its_own_stream(stack, gateway_for) -> None:
    gateway = gateway_for(stack, {"subscriptions": {"deduplicate": False}})
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        for op in ("1", "2", "3"):
            await ws.subscribe(op, "subscription { orderStatusChanged { id } }")
        await asyncio.sleep(1.0)
        assert _metric(gateway, "fedgate_subscription_upstreams", "orders") == 3
