"""Fixtures for cache tests: a seeded subgraph stack of our own, gateways in threads, Redis servers.

Subgraph requests are counted at the subgraphs: each logs one uvicorn access line per request.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cache_helpers import Counts, Gateway, OwnRedis, ServerThread  # noqa: E402

from gateway.config import GatewayConfig  # noqa: E402
from gateway.server import create_app  # noqa: E402
from gateway.supergraph import Supergraph, load_supergraph  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory, subgraph_stack_factory: Callable[[Path], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """orders, payments, delivery on freshly seeded databases, for tests/cache only."""
    procs = subgraph_stack_factory(tmp_path_factory.mktemp("cache-subgraphs"))
    yield procs
    for proc in reversed(list(procs.values())):
        proc.stop()


@pytest.fixture(scope="package")
def supergraph(stack: dict[str, Any]) -> Supergraph:
    sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        sdl = sdl.replace(f"http://127.0.0.1:{default_port}/", f"{stack[name].base_url}/")
    return load_supergraph(sdl)


@pytest.fixture
def counts(stack: dict[str, Any]) -> Counts:
    return Counts(stack)


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test's own, so tests sharing the session's redis-server never meet."""
    return f"t{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def start_gateway(supergraph: Supergraph) -> Iterator[Callable[..., Gateway]]:
    """Factory: `start_gateway({"cache": {...}}, planner=None)`; every gateway stops at test end."""
    running: list[tuple[ServerThread, Gateway]] = []

    def start(config: dict[str, Any] | None = None, sg: Supergraph | None = None, **kwargs: Any) -> Gateway:
        app = create_app(sg or supergraph, GatewayConfig.model_validate(config or {}), **kwargs)
        server = ServerThread(app, lifespan="on").__enter__()
        gateway = Gateway(server)
        running.append((server, gateway))
        return gateway

    yield start
    for server, gateway in reversed(running):
        gateway.client.close()
        server.__exit__(None, None, None)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.kill()
