"""Fixtures for executor tests: the shop subgraphs (see shop.py) and their supergraph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import build_schema
from shop import API_SDL, FakeSupergraph, Subgraph, running_shop, supergraph_sdl

from gateway.supergraph import Supergraph, load_supergraph


@pytest.fixture(scope="session")
def shop() -> Iterator[dict[str, Subgraph]]:
    """products, inventory and reviews, each on its own port."""
    with running_shop() as running:
        yield running


@pytest.fixture
def supergraph(shop: dict[str, Subgraph]) -> Supergraph:
    """The real supergraph of the three subgraphs (fresh per test; request logs cleared)."""
    for sg in shop.values():
        sg.requests.clear()
    return load_supergraph(supergraph_sdl({name: sg.url for name, sg in shop.items()}))


@pytest.fixture
def fake_supergraph() -> FakeSupergraph:
    """API schema only, for pure-logic tests."""
    return FakeSupergraph(build_schema(API_SDL), {})
