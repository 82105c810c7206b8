"""Supergraph hot reload (file watch, URL polling with ETag), readiness and the drain switch."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from shop import ServerThread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import GatewayConfig
from gateway.observability.metrics import REGISTRY
from gateway.server import create_app
from gateway.server.lifecycle import Lifecycle, fetch_supergraph
from gateway.supergraph import load_supergraph
from gateway.transport import make_transport

BROKEN = "type Query {"


class RecordingState:
    """What Lifecycle needs from GatewayState: the served pipeline and `load()`."""

    def __init__(self) -> None:
        self.pipeline: Any = "initial"
        self.transport = None
        self.loaded: list[Any] = []

    def load(self, supergraph: Any) -> None:
        self.loaded.append(supergraph)
        self.pipeline = supergraph


def refused_total() -> float:
    return REGISTRY.get_sample_value("fedgate_supergraph_reloads_total", {"result": "refused"}) or 0.0


async def test_watched_file_swaps_a_valid_supergraph_and_refuses_a_broken_one(tmp_path, shop_sdl):
    path = tmp_path / "supergraph.graphql"
    path.write_text(shop_sdl)
    state = RecordingState()
    lifecycle = Lifecycle(state)
    lifecycle.watch_file(path)
    assert not await lifecycle.check_file()  # unchanged
    path.write_text(shop_sdl + "\n# v2\n")
    assert await lifecycle.check_file()
    new = state.pipeline
    assert state.loaded == [new] and new != "initial"
    before = refused_total()
    path.write_text(BROKEN)
    assert not await lifecycle.check_file()
    assert state.pipeline is new  # the old one stays
    assert refused_total() == before + 1
    status, body = lifecycle.readiness()
    assert status == 200
    assert body["supergraph"]["reloads"] == 1 and body["supergraph"]["refused"] == 1
    assert "SUPERGRAPH_INVALID" in body["supergraph"]["last_error"]
    path.write_text(shop_sdl + "\n# v2\n")  # back to what is served: nothing to do
    assert not await lifecycle.check_file() and len(state.loaded) == 1


async def test_polled_url_reloads_only_on_a_new_etag(shop_sdl):
    served = {"sdl": shop_sdl}
    seen: list[str | None] = []

    async def supergraph(request: Request) -> Response:
        etag = '"' + hashlib.sha256(served["sdl"].encode()).hexdigest()[:16] + '"'
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304)
        return Response(served["sdl"], headers={"etag": etag})

    with ServerThread(Starlette(routes=[Route("/supergraph", supergraph)])) as server:
        url = server.url.replace("/graphql", "/supergraph")
        sdl, etag = await asyncio.to_thread(fetch_supergraph, url)
        state = RecordingState()
        lifecycle = Lifecycle(state)
        lifecycle.watch_url(url, etag, sdl)
        assert not await lifecycle.poll_url()  # 304
        served["sdl"] = shop_sdl + "\n# v2\n"
        assert await lifecycle.poll_url() and len(state.loaded) == 1
        served["sdl"] = BROKEN
        assert not await lifecycle.poll_url() and lifecycle.refused == 1
        assert not await lifecycle.poll_url() and lifecycle.refused == 1  # 304: not refused again
    assert seen[0] is None and seen[1] == etag and len(set(seen[1:])) == 3


def test_draining_turns_ready_503_and_closes_connections(shop_supergraph):
    app = create_app(shop_supergraph, GatewayConfig())
    lifecycle = app.state.lifecycle
    with ServerThread(lifecycle.middleware(app), lifespan="on") as server:
        base = server.url.removesuffix("/graphql")
        assert httpx.get(f"{base}/ready").status_code == 200
        lifecycle.begin_drain()
        ready = httpx.get(f"{base}/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        assert ready.headers["connection"] == "close"
        health = httpx.get(f"{base}/health")
        assert health.status_code == 200  # liveness only
        answer = httpx.post(server.url, json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}} and answer.headers["connection"] == "close"


class GatedTransport:
    """The real transport, holding every fetch until the test opens the gate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Semaphore(0)
        self.gate = threading.Event()

    async def fetch(self, request: Any) -> Any:
        self.entered.release()
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        return await self.inner.fetch(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_request_in_flight_finishes_on_the_supergraph_it_started_with(shop, shop_sdl, free_port):
    config = GatewayConfig.model_validate({"traffic_shaping": {"all": {"retry": {"max_attempts": 1}}}})
    gated = GatedTransport(make_transport(config.traffic_shaping))
    app = create_app(load_supergraph(shop_sdl), config, transport=gated)
    query = {"query": "{ topProducts(first: 1) { name } }"}
    # The new supergraph sends products fetches to a port nobody listens on.
    moved = shop_sdl.replace(shop["products"].url, f"http://127.0.0.1:{free_port()}/graphql")
    with ServerThread(app, lifespan="on") as server, ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, server.url, json=query, timeout=10)
        assert gated.entered.acquire(timeout=10)  # its products fetch is under way
        # On the server's loop, as a watched file or URL would trigger it (not on a second loop).
        assert server.call(app.state.lifecycle.offer(moved, "test"))
        gated.gate.set()
        assert in_flight.result().json() == {"data": {"topProducts": [{"name": "Table"}]}}
        after = httpx.post(server.url, json=query, timeout=10).json()
    assert after["errors"][0]["extensions"] == {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "products"}
