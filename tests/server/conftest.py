"""Fixtures for HTTP tests: the shop subgraphs from tests/execution/shop.py and a gateway serving them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "execution"))

from shop import ServerThread, Subgraph, running_shop, supergraph_sdl  # noqa: E402

from gateway.config import GatewayConfig  # noqa: E402
from gateway.server import create_app  # noqa: E402
from gateway.supergraph import Supergraph, load_supergraph  # noqa: E402


@pytest.fixture(scope="session")
def shop() -> Iterator[dict[str, Subgraph]]:
    with running_shop() as running:
        yield running


@pytest.fixture(scope="session")
def shop_sdl(shop: dict[str, Subgraph]) -> str:
    return supergraph_sdl({name: sg.url for name, sg in shop.items()})


@pytest.fixture(scope="session")
def shop_supergraph(shop_sdl: str) -> Supergraph:
    return load_supergraph(shop_sdl)


@pytest.fixture(scope="session")
def gateway_url(shop_supergraph: Supergraph) -> Iterator[str]:
    """A gateway for the shop served by uvicorn; its /graphql URL."""
    with ServerThread(create_app(shop_supergraph, GatewayConfig()), lifespan="on") as server:
        yield server.url


@pytest.fixture(scope="session")
def quiet_gateway_url(shop_supergraph: Supergraph) -> Iterator[str]:
    """A gateway configured with `expose_query_plan: false`."""
    config = GatewayConfig(expose_query_plan=False)
    with ServerThread(create_app(shop_supergraph, config), lifespan="on") as server:
        yield server.url
