"""The npm `graphql-ws` client (what Apollo Client's GraphQLWsLink and urql use) against the gateway.

`make test` installs it into tests/subscriptions/js/node_modules (ignored); run `make js-clients`
before running this file alone.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from wsclient import mutate, place_order, ws_url

JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="module")
def node() -> str:
    binary = shutil.which("node")
    if binary is None:
        pytest.fail("node is not installed (Node 20 is part of the machine; see docs/subscriptions.md)")
    if not (JS / "node_modules" / "graphql-ws").is_dir():
        pytest.fail("graphql-ws is not installed: run `make js-clients` (make test does)")
    return binary


async def _client(node: str, url: str, query: str, variables: dict, events: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        node, str(JS / "watch.mjs"), ws_url(url), query, json.dumps(variables), str(events),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=JS,
    )


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), 15)).decode().strip()


async def test_graphql_ws_client_receives_order_events(node, gateway) -> None:
    order = await place_order(gateway.url)
    query = "subscription($id: ID) { orderStatusChanged(id: $id) { status isPaid payment { status } } }"
    proc = await _client(node, gateway.url, query, {"id": order}, 2)
    try:
        assert await _line(proc) == "ack"
        await asyncio.sleep(1.0)
        await mutate(gateway.url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
        first = json.loads(await _line(proc))
        await mutate(gateway.url, "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": order})
        second = json.loads(await _line(proc))
        assert await _line(proc) == "complete"
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert first == {"data": {"orderStatusChanged": {"status": "APPROVED", "isPaid": True, "payment": {"status": "CAPTURED"}}}}
    assert second["data"]["orderStatusChanged"]["status"] == "CANCELLED"


async def test_graphql_ws_client_runs_a_query_over_the_socket(node, gateway) -> None:
    proc = await _client(node, gateway.url, 'query { order(id: "2") { id } }', {}, 5)
    try:
        assert await _line(proc) == "ack"
        assert json.loads(await _line(proc)) == {"data": {"order": {"id": "2"}}}
        assert await _line(proc) == "complete"
    finally:
        proc.kill()
        await proc.wait()
