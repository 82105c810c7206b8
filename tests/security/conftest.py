"""Gateways over the echo subgraph with security settings: a strict one (small limits, JWT from a
JWKS file and a JWKS URL, introspection off, CORS) and a masking one (messages redacted, tokens required)."""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))

from echo_subgraph import supergraph  # noqa: E402
from gateways import Proc, free_port, start_echo, start_gateway  # noqa: E402
from keys import Keys  # noqa: E402

LIMITS = {
    "max_body_bytes": 20_000,
    "body_read_timeout": 1,
    "max_tokens": 400,
    "max_depth": 4,
    "max_aliases": 3,
    "max_root_fields": 5,
    "max_cost": 30,
}


@pytest.fixture(scope="package")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_echo(tmp_path_factory.mktemp("echo"))
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="package")
def jwks_url(keys: Keys) -> Iterator[str]:
    """The ES256 key served over HTTP, as an identity provider would."""
    document = json.dumps(keys.url_jwks()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="package")
def strict(echo: Proc, keys: Keys, jwks_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("strict")
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps(keys.file_jwks()))
    config = {
        "lifecycle": {"shutdown_delay": 0},
        "limits": LIMITS,
        "security": {"introspection": False, "cors": {"allow_origins": ["https://app.example"]}},
        "auth": {"jwks": [{"file": str(jwks)}, {"url": jwks_url}]},
    }
    proc = start_gateway(supergraph(echo.url), config, workdir, "strict")
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def masking(echo: Proc, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("masking")
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps(keys.file_jwks()))
    config = {
        "lifecycle": {"shutdown_delay": 0},
        "security": {"mask_subgraph_errors": True},
        "auth": {"jwks": [{"file": str(jwks)}], "require_authentication": True},
    }
    proc = start_gateway(supergraph(echo.url), config, workdir, "masking")
    yield proc
    proc.stop()
