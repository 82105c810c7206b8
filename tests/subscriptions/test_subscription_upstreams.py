"""How the gateway reaches subgraph streams: SSE instead of WebSocket per subgraph, and subgraph
replicas sharing events through Redis pub/sub."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import saga_envs
from wsclient import Socket, mutate, open_socket, place_order

from tests.conftest import start_subgraph_process


async def _watch_one_change(gateway_url: str, mutate_url: str) -> dict:
    order = await place_order(mutate_url)
    async with open_socket(gateway_url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe("1", "subscription($id: ID) { orderStatusChanged(id: $id) { status isPaid } }", {"id": order})
        await asyncio.sleep(1.0)
        await mutate(mutate_url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
        return await ws.recv()


async def test_orders_over_sse_upstream(stack, gateway_for) -> None:
    gateway = gateway_for(stack, {"subscriptions": {"subgraphs": {"orders": {"protocol": "sse"}}}})
    message = await _watch_one_change(gateway.url, gateway.url)
    assert message["payload"] == {"data": {"orderStatusChanged": {"status": "APPROVED", "isPaid": True}}}


async def test_orders_replicas_share_events_through_redis(redis_server, tmp_path: Path, gateway_for) -> None:
    """The gateway subscribes to replica A; the change is made on replica B (same database file)."""
    envs = saga_envs(redis_server.url)
    db = tmp_path / "orders.db"
    a = start_subgraph_process("orders", tmp_path, env=envs["orders"], db_path=db)
    b = start_subgraph_process("orders", tmp_path, env=envs["orders"], db_path=db)
    others = [start_subgraph_process(n, tmp_path, orders_url=a.url, env=envs[n]) for n in ("payments", "delivery")]
    try:
        stack = {"orders": a, "payments": others[0], "delivery": others[1]}
        gateway = gateway_for(stack)
        message = await _watch_one_change(gateway.url, b.url)
        assert message["payload"]["data"]["orderStatusChanged"]["status"] == "APPROVED"
    finally:
        for proc in (*others, b, a):
            proc.stop()
