"""A small synchronous client of the registry API, for the CLI (publish, check, history, rollback ...)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import orjson

from .errors import REGISTRY_UNAVAILABLE, RegistryError


class RegistryClient:
    """Calls one registry with one token; every failure is a RegistryError with the server's code."""

    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.headers = {"authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout

    def _variant(self, graph: str, variant: str) -> str:
        return f"/graphs/{quote(graph)}/variants/{quote(variant)}"

    def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
                ok: tuple[int, ...] = (200, 201, 202)) -> httpx.Response:
        """Send one request; raise RegistryError for a JSON error or an unreachable registry."""
        try:
            response = httpx.request(method, self.url + path, headers=self.headers, params=params,
                                     content=orjson.dumps(body) if body is not None else None,
                                     timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise RegistryError(REGISTRY_UNAVAILABLE, f"cannot reach the registry at {self.url}: {exc}", 503) from exc
        if response.status_code not in ok:
            try:
                err = response.json()["errors"][0]
                ext = err.get("extensions", {})
                raise RegistryError(ext.get("code", "ERROR"), err["message"], response.status_code,
                                    **{k: v for k, v in ext.items() if k != "code"})
            except (ValueError, KeyError, IndexError, TypeError):
                raise RegistryError("HTTP_" + str(response.status_code),
                                    f"the registry answered {response.status_code}: {response.text[:200]}",
                                    response.status_code) from None
        return response

    def json(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self.request(method, path, body, params).json()

    # -- the calls the CLI makes ----------------------------------------------------------------

    def create_graph(self, name: str) -> Any:
        return self.json("POST", "/graphs", {"name": name})

    def create_token(self, kind: str, graph: str, subgraph: str | None, label: str | None) -> Any:
        return self.json("POST", "/tokens", {"kind": kind, "graph": graph, "subgraph": subgraph, "label": label})

    def publish(self, graph: str, variant: str, name: str, sdl: str, routing_url: str | None) -> Any:
        return self.json("PUT", f"{self._variant(graph, variant)}/subgraphs/{quote(name)}",
                         {"sdl": sdl, "routing_url": routing_url})

    def check(self, graph: str, variant: str, name: str, sdl: str, window: float, min_requests: int) -> Any:
        return self.json("POST", f"{self._variant(graph, variant)}/subgraphs/{quote(name)}/check",
                         {"sdl": sdl, "window_seconds": window, "min_requests": min_requests})

    def subgraphs(self, graph: str, variant: str) -> Any:
        return self.json("GET", f"{self._variant(graph, variant)}/subgraphs")["subgraphs"]

    def subgraph(self, graph: str, variant: str, name: str) -> Any:
        return self.json("GET", f"{self._variant(graph, variant)}/subgraphs/{quote(name)}")

    def supergraph(self, graph: str, variant: str, version: int | None = None) -> str:
        params = {"version": version} if version is not None else None
        return self.request("GET", f"{self._variant(graph, variant)}/supergraph", params=params).text

    def history(self, graph: str, variant: str, limit: int) -> Any:
        return self.json("GET", f"{self._variant(graph, variant)}/versions", params={"limit": limit})["versions"]

    def diff(self, graph: str, variant: str, old: int, new: int) -> Any:
        return self.json("GET", f"{self._variant(graph, variant)}/diff", params={"from": old, "to": new})

    def rollback(self, graph: str, variant: str, version: int) -> Any:
        return self.json("POST", f"{self._variant(graph, variant)}/rollback", {"version": version})
