"""Three real gateways follow one real registry (`--supergraph-url` with a read token and ETag polling).

- a publish that composes is served by all three within two poll intervals;
- one that does not compose is refused with its codes and none of them changes;
- the registry killed (SIGKILL) for REGISTRY_DOWN seconds under bounded load costs 0 failed
  client requests; it is 4 s in `make test` and 30 s under `make soak` (env FEDGATE_REGISTRY_DOWN_SECONDS).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import httpx
import pytest
from registry_helpers import FEDGATE, Api, publish_shop, shop_sdl

POLL = 2.0
REGISTRY_DOWN = float(os.environ.get("FEDGATE_REGISTRY_DOWN_SECONDS", "4"))
CONFIG = f"""
lifecycle:
  poll_interval: {POLL}
  shutdown_delay: 0.2
"""
PROBE = '{ __type(name: "Query") { fields { name } } }'
ORDER = '{ order(id: "2") { id status total { cents currency } } }'


def _query_fields(gateway: Any) -> set[str]:
    r = httpx.post(gateway.url, json={"query": PROBE}, timeout=10)
    return {f["name"] for f in r.json()["data"]["__type"]["fields"]}


def _with_probe(field: str) -> str:
    return shop_sdl("orders").replace("type Query {", "type Query {\n  " + field + ": String", 1)


@pytest.fixture
def followed(subgraphs, start_registry, start_service, free_port, tmp_path):  # type: ignore[no-untyped-def]
    """(registry process, admin Api, [three gateways]) with the shop published as shop@prod."""
    registry = start_registry()
    api = Api(registry.base_url)
    publish_shop(api, "shop@prod", subgraphs)
    read = api.make_token("read", "shop")
    config = tmp_path / "fedgate.yaml"
    config.write_text(CONFIG)
    url = f"{registry.base_url}/graphs/shop/variants/prod/supergraph"
    gateways = []
    for i in range(3):
        port = free_port()
        gateways.append(start_service(f"gateway{i}", [*FEDGATE, "serve", "--supergraph-url", url, "--port", str(port),
                                                      "--config", str(config), "--log-level", "warning"],
                                      port, env={"FEDGATE_SUPERGRAPH_TOKEN": read}))
    return registry, api, gateways


def test_gateways_serve_a_composing_publish_within_two_poll_intervals(followed, subgraphs) -> None:  # type: ignore[no-untyped-def]
    registry, api, gateways = followed
    assert all("registryProbe" not in _query_fields(g) for g in gateways)
    r = api.publish("shop@prod", "orders", _with_probe("registryProbe"), subgraphs["orders"].url)
    assert r.status_code == 201, r.text
    published = time.monotonic()
    pending = set(range(3))
    while pending and time.monotonic() - published < 2 * POLL:
        pending = {i for i in pending if "registryProbe" not in _query_fields(gateways[i])}
        time.sleep(0.05)
    assert not pending, f"gateways {pending} still serve the old supergraph after {2 * POLL}s"
    print(f"served by all three {time.monotonic() - published:.2f}s after the publish answered")

    # A publish that does not compose: refused with its codes, and no gateway changes.
    clashing = _with_probe("refusedProbe") + '\ntype Payment @key(fields: "id") { id: ID! status: Int }\n'
    r = api.publish("shop@prod", "orders", clashing, subgraphs["orders"].url)
    assert r.status_code == 422, r.text
    codes = {e["code"] for e in r.json()["errors"][0]["extensions"]["composition"]["errors"]}
    assert codes, r.text
    time.sleep(2 * POLL + 0.5)
    for g in gateways:
        fields = _query_fields(g)
        assert "registryProbe" in fields and "refusedProbe" not in fields
        ready = httpx.get(f"{g.base_url}/ready", timeout=5).json()
        assert ready["supergraph"]["reloads"] == 1 and ready["supergraph"]["refused"] == 0
    assert httpx.post(gateways[0].url, json={"query": ORDER}, timeout=10).json()["data"]["order"]["id"] == "2"


async def _load(gateways: list[Any], stop: asyncio.Event, results: dict[str, int]) -> None:
    """Bounded closed-loop load: 6 clients round-robin over the gateways until `stop` (or a cap per client)."""

    async def client(i: int) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            for n in range(int(600 * (REGISTRY_DOWN + 2))):
                if stop.is_set():
                    return
                g = gateways[(i + n) % len(gateways)]
                try:
                    r = await http.post(g.url, json={"query": ORDER})
                    ok = r.status_code == 200 and r.json().get("data", {}).get("order", {}).get("id") == "2" \
                        and "errors" not in r.json()
                except httpx.HTTPError:
                    ok = False
                results["ok" if ok else "failed"] += 1

    await asyncio.gather(*(client(i) for i in range(6)))


def test_registry_down_under_load_costs_no_client_request(followed, start_registry, subgraphs) -> None:  # type: ignore[no-untyped-def]
    registry, api, gateways = followed
    results = {"ok": 0, "failed": 0}

    async def scenario() -> None:
        stop = asyncio.Event()
        load = asyncio.create_task(_load(gateways, stop, results))
        await asyncio.sleep(1.0)
        os.kill(registry.pid, signal.SIGKILL)
        registry.process.wait(5)
        await asyncio.sleep(REGISTRY_DOWN)
        stop.set()
        await load

    asyncio.run(scenario())
    print(f"registry down {REGISTRY_DOWN}s under load: {results}")
    assert results["failed"] == 0 and results["ok"] > 0
    for g in gateways:  # still ready, still on the last good supergraph
        assert httpx.get(f"{g.base_url}/ready", timeout=5).status_code == 200

    # Back on the same port and database: the gateways pick up the next publish.
    back = start_registry(registry.extra["database"], port=registry.port)
    r = Api(back.base_url).publish("shop@prod", "orders", _with_probe("afterOutage"), subgraphs["orders"].url)
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 2 * POLL + 2
    while time.monotonic() < deadline and not all("afterOutage" in _query_fields(g) for g in gateways):
        time.sleep(0.1)
    assert all("afterOutage" in _query_fields(g) for g in gateways)
