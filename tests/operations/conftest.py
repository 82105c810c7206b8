"""A gateway over the echo subgraph with JSON logs, an access log, tracing to a file, header rules and JWT."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from echo_subgraph import supergraph  # noqa: E402
from gateways import Proc, start_echo, start_gateway  # noqa: E402
from keys import Keys  # noqa: E402


@pytest.fixture(scope="package")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_echo(tmp_path_factory.mktemp("echo"))
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="package")
def observed(echo: Proc, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """{"gateway": Proc, "spans": path of the span file}."""
    workdir = tmp_path_factory.mktemp("observed")
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps(keys.file_jwks()))
    spans = workdir / "spans.jsonl"
    config = {
        "lifecycle": {"shutdown_delay": 0},
        "telemetry": {
            "logging": {"format": "json", "access_log": True},
            "tracing": {"enabled": True, "file": str(spans)},
        },
        "headers": {
            "all": [
                {"propagate": "x-tenant", "rename": "x-tenant-id"},
                {"propagate": "x-region", "default": "eu"},
                {"matching": "x-feature-.*"},
                {"insert": "x-gateway", "value": "fedgate"},
            ],
            "subgraphs": {"echo": [{"insert": "x-user", "from_claim": "sub"}]},
        },
        "auth": {"jwks": [{"file": str(jwks)}]},
    }
    proc = start_gateway(supergraph(echo.url), config, workdir, "observed")
    yield {"gateway": proc, "spans": spans}
    proc.stop()
