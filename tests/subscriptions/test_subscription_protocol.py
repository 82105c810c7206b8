"""graphql-transport-ws rules as a client sees them: auth at connection_init, close codes, limits."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from wsclient import Socket, open_socket

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))
from keys import Keys  # noqa: E402

SUB = "subscription { orderStatusChanged { id } }"


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def secured(stack, gateway_for, keys, tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.file_jwks()))
    return gateway_for(stack, {"auth": {"jwks": [{"file": str(jwks)}], "require_authentication": True}})


async def test_connection_init_runs_the_jwt_rules_of_the_http_path(secured, keys) -> None:
    async with open_socket(secured.url) as raw:  # no token: refused as HTTP would answer 401
        ws = Socket(raw)
        await ws.send({"type": "connection_init", "payload": {}})
        code, reason = await ws.closed()
        assert code == 4403 and "Authentication is required" in reason
    async with open_socket(secured.url) as raw:  # a token the keys did not sign
        ws = Socket(raw)
        await ws.send({"type": "connection_init", "payload": {"Authorization": "Bearer not.a.token"}})
        assert (await ws.closed())[0] == 4403
    async with open_socket(secured.url) as raw:  # an expired token
        ws = Socket(raw)
        token = keys.token(expires_in=-60)
        await ws.send({"type": "connection_init", "payload": {"headers": {"authorization": f"Bearer {token}"}}})
        code, reason = await ws.closed()
        assert code == 4403 and "expired" in reason
    async with open_socket(secured.url) as raw:
        ws = Socket(raw)
        assert await ws.init({"Authorization": f"Bearer {keys.token()}"}) == {"type": "connection_ack"}
        await ws.subscribe("q", '{ order(id: "1") { id } }')
        assert (await ws.recv())["payload"] == {"data": {"order": {"id": "1"}}}


async def test_protocol_violations_close_with_the_protocol_codes(stack, gateway_for) -> None:
    gateway = gateway_for(stack, {"subscriptions": {"init_timeout": 0.5}})
    async with open_socket(gateway.url) as raw:  # nothing sent: init timeout
        assert (await Socket(raw).closed())[0] == 4408
    async with open_socket(gateway.url) as raw:  # subscribe before the ack
        ws = Socket(raw)
        await ws.subscribe("1", SUB)
        assert (await ws.closed())[0] == 4401
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.send({"type": "connection_init"})
        assert (await ws.closed())[0] == 4429
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await ws.subscribe("1", SUB)
        await ws.subscribe("1", SUB)
        assert (await ws.closed())[0] == 4409
    async with open_socket(gateway.url) as raw:
        ws = Socket(raw)
        await ws.init()
        await raw.send("not json")
        assert (await ws.closed())[0] == 4400
    async with open_socket(gateway.url, subprotocols=["graphql-ws"]) as raw:  # the legacy protocol
        assert (await Socket(raw).closed())[0] == 4406


async def test_limits_per_connection_and_in_total(stack, gateway_for) -> None:
    gateway = gateway_for(stack, {"subscriptions": {"max_per_connection": 2, "max_total": 3}})
    async with open_socket(gateway.url) as raw1, open_socket(gateway.url) as raw2:
        one, two = Socket(raw1), Socket(raw2)
        await one.init()
        await two.init()
        for op in ("a", "b", "c"):
            await one.subscribe(op, SUB)
        refused = await one.recv()
        assert refused["id"] == "c" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_REACHED"
        assert "2 subscriptions" in refused["payload"][0]["message"]
        await two.subscribe("x", SUB)
        await two.subscribe("y", SUB)
        refused = await two.recv()
        assert refused["id"] == "y" and refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_REACHED"
        assert "maximum of 3" in refused["payload"][0]["message"]
        # Completing one frees its slot.
        await one.send({"id": "a", "type": "complete"})
        await asyncio.sleep(0.2)
        await two.subscribe("z", SUB)
        assert await two.quiet(0.5) == []


async def test_heartbeat_pings_and_idle_timeout(stack, gateway_for) -> None:
    gateway = gateway_for(
        stack, {"subscriptions": {"heartbeat_interval": 0.3, "heartbeat_timeout": 5, "idle_timeout": 1.5}}
    )
    async with open_socket(gateway.url) as raw:
        await raw.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await raw.recv()) == {"type": "connection_ack"}
        assert json.loads(await asyncio.wait_for(raw.recv(), 5)) == {"type": "ping"}
        await raw.send(json.dumps({"type": "pong"}))
        code, reason = await Socket(raw).closed()  # no subscription for idle_timeout: closed
        assert code == 1000 and reason == "Idle"
