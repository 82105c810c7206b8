"""One gateway with the default configuration over the three real subgraphs, shared by the fuzz tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))

from gateways import Proc, domain_supergraph, start_gateway  # noqa: E402


@pytest.fixture(scope="package")
def fuzz_gateway(subgraphs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    # Defaults everywhere except: stop at once, and give slow clients 1 s instead of 10.
    config = {"lifecycle": {"shutdown_delay": 0}, "limits": {"body_read_timeout": 1}}
    proc = start_gateway(domain_supergraph(subgraphs), config, tmp_path_factory.mktemp("fuzz"), "fuzz")
    yield proc
    proc.stop()
