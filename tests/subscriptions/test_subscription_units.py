"""Pure logic of the subscriptions layer: where credentials are read from, the in-process broker,
and where a subgraph stream is opened."""

from __future__ import annotations

import asyncio

from gateway.config import SubgraphSubscriptionConfig
from gateway.subscriptions import init_headers
from gateway.subscriptions.upstream import stream_url
from subgraphs.common import MemoryBroker


def test_connection_init_payload_overrides_handshake_headers() -> None:
    handshake = {"Authorization": "Bearer old", "x-tenant": "a"}
    assert init_headers(handshake, {"Authorization": "Bearer new"}) == {"authorization": "Bearer new", "x-tenant": "a"}
    assert init_headers(handshake, {"headers": {"X-Tenant": "b"}})["x-tenant"] == "b"
    assert init_headers({}, {"count": 3, "nested": {"a": 1}}) == {}  # only string values are headers
    assert init_headers({"a": "1"}, None) == {"a": "1"}


def test_stream_url_defaults_to_the_routing_url() -> None:
    ws = SubgraphSubscriptionConfig()
    assert stream_url("http://orders:4001/graphql", ws) == "ws://orders:4001/graphql"
    assert stream_url("https://orders/graphql", ws) == "wss://orders/graphql"
    sse = SubgraphSubscriptionConfig(protocol="sse")
    assert stream_url("http://orders:4001/graphql", sse) == "http://orders:4001/graphql"
    custom = SubgraphSubscriptionConfig(url="ws://elsewhere/stream")
    assert stream_url("http://orders:4001/graphql", custom) == "ws://elsewhere/stream"


async def test_memory_broker_delivers_to_current_subscribers_only() -> None:
    broker = MemoryBroker()
    await broker.publish("t", {"n": 0})  # nobody listens yet: dropped
    stream = broker.subscribe("t").__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    assert broker.subscribers("t") == 1
    await broker.publish("t", {"n": 1})
    await broker.publish("other", {"n": 2})
    assert await asyncio.wait_for(first, 1) == {"n": 1}
    await stream.aclose()  # type: ignore[attr-defined]
    assert broker.subscribers("t") == 0
