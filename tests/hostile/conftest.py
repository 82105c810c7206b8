"""The hostile subgraph (tests/hostile/hostile_subgraph.py) and a gateway over it and a good one."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateways import Proc, free_port, start, start_gateway  # noqa: E402
from hostile_subgraph import GOOD_SDL, HOSTILE_SDL  # noqa: E402

from gateway.composition import SubgraphInput, compose  # noqa: E402

HERE = Path(__file__).resolve().parent
# The hostile subgraph: short timeouts, one retry, no circuit breaker (every test must reach it),
# and a 1 MB answer limit.
HOSTILE_TRAFFIC: dict[str, Any] = {
    "timeout": 4,
    "read_timeout": 1,
    "max_response_bytes": 1_000_000,
    "retry": {"max_attempts": 2, "backoff_base": 0.01},
    "circuit_breaker": {"enabled": False},
}


@pytest.fixture(scope="package")
def hostile_subgraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    good_port, hostile_port = free_port(), free_port()
    argv = [sys.executable, str(HERE / "hostile_subgraph.py"), "--good-port", str(good_port),
            "--hostile-port", str(hostile_port)]
    proc = start(argv, hostile_port, tmp_path_factory.mktemp("hostile-subgraph"), "hostile")
    proc.extra = {"good_port": good_port}  # type: ignore[attr-defined]
    yield proc
    proc.stop()


def supergraph(good_port: int, hostile_port: int) -> str:
    result = compose([
        SubgraphInput("good", f"http://127.0.0.1:{good_port}/graphql", GOOD_SDL),
        SubgraphInput("hostile", f"http://127.0.0.1:{hostile_port}/graphql", HOSTILE_SDL),
    ])
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


@pytest.fixture(scope="package")
def gateway(hostile_subgraph: Proc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    sdl = supergraph(hostile_subgraph.extra["good_port"], hostile_subgraph.port)  # type: ignore[attr-defined]
    config = {
        "lifecycle": {"shutdown_delay": 0},
        "traffic_shaping": {"subgraphs": {"hostile": HOSTILE_TRAFFIC}},
    }
    proc = start_gateway(sdl, config, tmp_path_factory.mktemp("hostile-gateway"), "gateway")
    yield proc
    proc.stop()
