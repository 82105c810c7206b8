"""Helpers of the registry tests: the CLI runner, a small API client, and test subgraph SDLs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "schema"
ADMIN = "test-admin-token"
FEDGATE = [sys.executable, "-m", "gateway"]

LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n'
PRODUCTS = LINK + """
type Query { products: [Product!]! }
type Product @key(fields: "id") { id: ID! name: String! price: Int status: Status }
enum Status { ACTIVE RETIRED }
"""
REVIEWS = LINK + """
type Product @key(fields: "id") { id: ID! reviews: [String!]! }
"""
# `name` is not @shareable in products: INVALID_FIELD_SHARING.
REVIEWS_CLASHING = LINK + """
type Product @key(fields: "id") { id: ID! reviews: [String!]! name: String! }
"""



def fedgate(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `fedgate` CLI; the result has returncode, stdout and stderr."""
    return subprocess.run([*FEDGATE, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout,
                          env={**os.environ, **(env or {})}, input=stdin)


class Api:
    """Calls to one registry with one token (raw HTTP, so tests see statuses and bodies)."""

    def __init__(self, base_url: str, token: str | None = ADMIN) -> None:
        self.base_url = base_url
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base_url + path, json=json, headers={**self.headers(),
                             **kwargs.pop("headers", {})}, timeout=60, **kwargs)

    def with_token(self, token: str | None) -> Api:
        return Api(self.base_url, token)

    def make_token(self, kind: str, graph: str, subgraph: str | None = None) -> str:
        r = Api(self.base_url, ADMIN).call("POST", "/tokens", {"kind": kind, "graph": graph, "subgraph": subgraph})
        assert r.status_code == 201, r.text
        made: str = r.json()["token"]
        return made

    def publish(self, ref: str, name: str, sdl: str, url: str) -> httpx.Response:
        graph, _, variant = ref.partition("@")
        return self.call("PUT", f"/graphs/{graph}/variants/{variant}/subgraphs/{name}", {"sdl": sdl, "routing_url": url})

    def supergraph(self, ref: str) -> httpx.Response:
        graph, _, variant = ref.partition("@")
        return self.call("GET", f"/graphs/{graph}/variants/{variant}/supergraph")


def shop_sdl(name: str) -> str:
    """The repository's SDL of one shop subgraph."""
    return (SCHEMA / f"{name}.graphql").read_text()


def publish_shop(api: Api, ref: str, subgraphs: dict[str, Any]) -> int:
    """Create the graph (if needed) and publish the three shop subgraphs at their running URLs; the version."""
    graph = ref.partition("@")[0]
    r = api.call("POST", "/graphs", {"name": graph})
    assert r.status_code in (201, 409), r.text
    version = 0
    for name in ("orders", "payments", "delivery"):
        r = api.publish(ref, name, shop_sdl(name), subgraphs[name].url)
        assert r.status_code in (200, 201), r.text
        version = r.json()["supergraph_version"]
    return version
