"""Subscriptions end to end: the three real subgraphs, `fedgate serve` with a config, and clients
speaking graphql-transport-ws (tests/subscriptions/wsclient.py) and GraphQL over SSE."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateways import Proc, domain_supergraph, start_gateway  # noqa: E402

FAST = {"lifecycle": {"shutdown_delay": 0, "watch_interval": 0.2}}


def saga_envs(redis_url: str) -> dict[str, dict[str, str]]:
    """The order saga between orders and payments (an order is PAID by itself, docs/saga.md), the
    restaurant approving by hand, and delivery outside it: agents only by `assignAgent`, so the
    status events these tests expect are the ones their mutations cause."""
    bus = {"REDIS_URL": redis_url, "EVENTS_PREFIX": f"subs{uuid.uuid4().hex[:8]}", "EVENTS_BLOCK_MS": "200",
           "SAGA_AUTO_APPROVE_SECONDS": "-1"}
    return {"orders": bus, "payments": bus, "delivery": {"REDIS_URL": ""}}


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory, subgraph_stack_factory: Callable[..., dict[str, Any]], redis_server: Any
) -> Iterator[dict[str, Any]]:
    """orders, payments and delivery on fresh databases, shared by these tests (each uses its own orders)."""
    procs = subgraph_stack_factory(tmp_path_factory.mktemp("subs-subgraphs"), saga_envs(redis_server.url))
    yield procs
    for proc in reversed(list(procs.values())):
        proc.stop()


@pytest.fixture
def fresh_stack(
    tmp_path: Path, subgraph_stack_factory: Callable[..., dict[str, Any]], redis_server: Any
) -> Iterator[dict[str, Any]]:
    """Like `stack`, for one test alone (it may kill a subgraph)."""
    procs = subgraph_stack_factory(tmp_path / "subgraphs", saga_envs(redis_server.url))
    yield procs
    for proc in reversed(list(procs.values())):
        proc.stop()


@pytest.fixture
def gateway_for(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """`gateway_for(stack, config)`: `fedgate serve` over that stack; stopped by pid at the end."""
    started: list[Proc] = []

    def start(procs: dict[str, Any], config: dict[str, Any] | None = None, name: str = "gateway") -> Proc:
        merged = {**FAST, **(config or {})}
        proc = start_gateway(domain_supergraph(procs), merged, tmp_path / name, name)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def gateway(stack: dict[str, Any], gateway_for: Callable[..., Proc]) -> Proc:
    """A gateway with the default subscription settings over the shared stack."""
    return gateway_for(stack)
