"""SubgraphClient: POSTs GraphQL requests to subgraphs over one shared keep-alive pool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import httpx
import orjson

from gateway.config import TrafficShapingConfig
from gateway.errors import SUBGRAPH_REQUEST_FAILED


class TransportError(Exception):
    """A subgraph request that produced no usable GraphQL response (network, timeout, bad JSON)."""

    def __init__(self, message: str, code: str = SUBGRAPH_REQUEST_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class SubgraphResponse(NamedTuple):
    """HTTP status and the parsed JSON body of a subgraph answer."""

    status: int
    body: Any


class Transport(Protocol):
    """The one interface the executor uses; swap implementations (dedup, retries, mocks) behind it."""

    async def fetch(
        self, subgraph_name: str, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> SubgraphResponse: ...


_BASE_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


class SubgraphClient:
    """Transport over a single `httpx.AsyncClient`: pooled keep-alive connections to every subgraph."""

    def __init__(self, traffic: TrafficShapingConfig | None = None) -> None:
        self._traffic = traffic or TrafficShapingConfig()
        limits = httpx.Limits(
            max_connections=self._traffic.max_connections,
            max_keepalive_connections=self._traffic.max_connections,
        )
        self._client = httpx.AsyncClient(
            limits=limits, timeout=httpx.Timeout(self._traffic.all.timeout), headers=_BASE_HEADERS
        )
        self._timeouts = {name: httpx.Timeout(cfg.timeout) for name, cfg in self._traffic.subgraphs.items()}

    async def fetch(
        self, subgraph_name: str, url: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> SubgraphResponse:
        """POST `body` (a JSON GraphQL request) to `url`; raise TransportError when no JSON comes back."""
        timeout = self._timeouts.get(subgraph_name)
        try:
            if timeout is None:
                response = await self._client.post(url, content=body, headers=headers)
            else:
                response = await self._client.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': request timed out") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': {exc or type(exc).__name__}") from exc
        try:
            parsed = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            if response.status_code >= 400:
                raise TransportError(
                    f"HTTP fetch failed from '{subgraph_name}': {response.status_code}: "
                    f"{response.reason_phrase}"
                ) from exc
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': invalid JSON in response") from exc
        return SubgraphResponse(response.status_code, parsed)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._client.aclose()
