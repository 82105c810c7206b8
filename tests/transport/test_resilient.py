"""ResilientTransport over real HTTP on loopback: retries, budget, circuit breaker, dedup."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.config import TrafficShapingConfig
from gateway.observability.metrics import REGISTRY
from gateway.transport import (
    FetchRequest,
    ResilientTransport,
    SubgraphClient,
    SubgraphResponse,
    TransportError,
)
from gateway.transport.native import NativeClient

QUERY = b'{"query":"{__typename}","variables":{}}'
MUTATION = b'{"query":"mutation{pay}","variables":{}}'


class Counting:
    """The real base client, counting the attempts that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def fetch(self, request: FetchRequest) -> SubgraphResponse:
        self.calls += 1
        response: SubgraphResponse = await self.inner.fetch(request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def transport(client: str = "httpx", **all_settings: Any) -> tuple[ResilientTransport, Counting]:
    traffic = TrafficShapingConfig.model_validate({"client": client, "all": all_settings})
    base = Counting(NativeClient(traffic) if client == "native" else SubgraphClient(traffic))
    return ResilientTransport(base, traffic), base


@pytest.mark.parametrize("client", ["httpx", "native"])
async def test_retries_bridge_a_subgraph_that_is_starting(client, free_port, start_subgraph):
    port = free_port()
    resilient, base = transport(client)
    try:
        fetch = asyncio.create_task(resilient.fetch(FetchRequest("orders", f"http://127.0.0.1:{port}/graphql", QUERY)))
        await asyncio.sleep(0.2)  # refused meanwhile
        await asyncio.to_thread(start_subgraph, "orders", port=port)
        response = await fetch
    finally:
        await resilient.aclose()
    assert response.status == 200 and response.body == {"data": {"__typename": "Query"}}
    assert base.calls > 1


async def test_mutations_are_not_retried_unless_the_subgraph_opts_in(free_port):
    url = f"http://127.0.0.1:{free_port()}/graphql"
    resilient, base = transport(retry={"max_attempts": 3, "backoff_base": 0.01})
    with pytest.raises(TransportError) as raised:
        await resilient.fetch(FetchRequest("payments", url, MUTATION, is_mutation=True))
    assert raised.value.code == "SUBGRAPH_UNAVAILABLE" and base.calls == 1
    with pytest.raises(TransportError):
        await resilient.fetch(FetchRequest("payments", url, QUERY))
    assert base.calls == 1 + 3
    await resilient.aclose()

    opted_in, base = transport(retry={"max_attempts": 3, "backoff_base": 0.01, "retry_mutations": True})
    with pytest.raises(TransportError):
        await opted_in.fetch(FetchRequest("payments", url, MUTATION, is_mutation=True))
    assert base.calls == 3
    await opted_in.aclose()


async def test_503_is_retried_and_the_last_answer_kept_when_retries_run_out(scripted):
    resilient, base = transport(retry={"max_attempts": 3, "backoff_base": 0.01})
    scripted.script.fail_first = 2
    response = await resilient.fetch(FetchRequest("s", scripted.url, QUERY))
    assert (response.status, response.body) == (200, {"data": {"n": 3}})
    scripted.script.fail_first = 100
    response = await resilient.fetch(FetchRequest("s", scripted.url, QUERY))
    assert response.status == 503 and response.body == {"errors": [{"message": "busy"}]}  # the subgraph's own answer
    assert base.calls == 3 + 3
    await resilient.aclose()


async def test_a_spent_retry_budget_stops_retries(scripted):
    resilient, base = transport(retry={"backoff_base": 0.01, "budget_ratio": 0, "budget_min_per_second": 0})
    scripted.script.fail_first = 1
    response = await resilient.fetch(FetchRequest("s", scripted.url, QUERY))
    assert response.status == 503 and base.calls == 1
    await resilient.aclose()


def circuit_gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value("fedgate_circuit_state", {"subgraph": name})


async def test_open_circuit_fails_fast_and_a_probe_closes_it(scripted):
    resilient, base = transport(
        retry={"max_attempts": 1}, circuit_breaker={"failure_threshold": 2, "open_duration": 0.2}
    )
    scripted.script.fail_first = 2
    for _ in range(2):
        assert (await resilient.fetch(FetchRequest("flaky", scripted.url, QUERY))).status == 503
    assert resilient.circuit_states() == {"flaky": "open"} and circuit_gauge("flaky") == 2
    with pytest.raises(TransportError) as raised:
        await resilient.fetch(FetchRequest("flaky", scripted.url, QUERY))
    assert raised.value.code == "SUBGRAPH_UNAVAILABLE" and "circuit open" in raised.value.message
    assert base.calls == 2  # failed fast: nothing sent
    await asyncio.sleep(0.25)
    assert (await resilient.fetch(FetchRequest("flaky", scripted.url, QUERY))).status == 200  # the half-open probe
    assert resilient.circuit_states() == {"flaky": "closed"} and circuit_gauge("flaky") == 0
    await resilient.aclose()


async def test_identical_concurrent_queries_share_one_upstream_call(scripted):
    resilient, base = transport()
    scripted.script.delay = 0.2
    same = [resilient.fetch(FetchRequest("s", scripted.url, QUERY, headers={"x-request-id": str(i), "authorization": "a"})) for i in range(5)]
    other_user = resilient.fetch(FetchRequest("s", scripted.url, QUERY, headers={"authorization": "b"}))
    mutations = [resilient.fetch(FetchRequest("s", scripted.url, MUTATION, is_mutation=True)) for _ in range(2)]
    responses = await asyncio.gather(*same, other_user, *mutations)
    assert len(scripted.script.received) == 1 + 1 + 2
    shared = responses[:5]
    assert all(r == shared[0] for r in shared)
    shared[0].body["data"]["n"] = "changed"  # each waiter owns its body: the executor merges into it
    assert all(r.body["data"]["n"] != "changed" for r in shared[1:])
    await resilient.aclose()


async def test_http2_setting_builds_a_client_that_still_talks_to_http1_subgraphs(scripted):
    # Over cleartext there is no ALPN: httpx with HTTP/2 enabled speaks HTTP/1.1 to uvicorn subgraphs.
    client = SubgraphClient(TrafficShapingConfig(http2=True))
    try:
        response = await client.fetch(FetchRequest("s", scripted.url, QUERY))
    finally:
        await client.aclose()
    assert (response.status, response.body) == (200, {"data": {"n": 1}})
