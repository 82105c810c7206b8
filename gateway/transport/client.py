"""SubgraphClient: POSTs GraphQL requests to subgraphs over one shared keep-alive pool."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import httpx
import orjson

from gateway.config import SubgraphTrafficConfig, TrafficShapingConfig
from gateway.errors import SUBGRAPH_REQUEST_FAILED, GatewayError
from gateway.observability.context import RequestContext


class TransportError(GatewayError):
    """A subgraph request that produced no usable GraphQL response (network, timeout, bad JSON).

    `kind` says what went wrong, for `fedgate_subgraph_errors_total{kind}`: `connect`, `timeout`,
    `reset` (closed before a whole answer), `truncated` (body shorter than its framing said),
    `malformed_http`, `too_large` (over `max_response_bytes`), `http_error` (a non-JSON answer with an
    error status, e.g. a proxy's HTML 502 page), `invalid_json`, `circuit_open`, `other`.
    """

    def __init__(
        self, message: str, code: str = SUBGRAPH_REQUEST_FAILED, status: int | None = None, kind: str = "other"
    ) -> None:
        super().__init__(code, message)
        self.status = status  # the HTTP status, when the subgraph answered with a non-JSON error
        self.kind = kind


class ResponseTooLarge(ValueError):
    """A subgraph answer over `max_response_bytes`: refused before the rest is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response larger than {limit} bytes")


class SubgraphResponse(NamedTuple):
    """HTTP status and the parsed JSON body of a subgraph answer."""

    status: int
    body: Any
    # The subgraph's `Cache-Control` header (the entity cache lowers its TTL to max-age).
    cache_control: str | None = None
    # The body as received, when the client kept it: a shared (deduplicated) answer is parsed
    # again from it for each waiter instead of being copied.
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One subgraph request as the executor hands it to the transport (as httpx's transports take one
    `Request`): the wrappers (instrumentation, retries, dedup) read what they need from it."""

    subgraph: str
    url: str
    body: bytes
    # From the plan (the fetch's operation kind), never guessed from the body: no retries, no dedup.
    is_mutation: bool = False
    # Headers to send; the instrumented transport adds request id, trace context and header rules.
    headers: Mapping[str, str] | None = None
    # The client request this fetch serves (None: a fetch outside any request, e.g. a test).
    context: RequestContext | None = None


class Transport(Protocol):
    """The one interface the executor uses; swap implementations (dedup, retries, mocks) behind it."""

    async def fetch(self, request: FetchRequest) -> SubgraphResponse: ...


_BASE_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
    # httpx would ask for every coding it can decode; compression is per subgraph (see fetch).
    "accept-encoding": "identity",
}
_COMPRESSED = {"accept-encoding": "br, gzip"}


class SubgraphClient:
    """Transport over a single `httpx.AsyncClient`: pooled keep-alive connections to every subgraph."""

    def __init__(self, traffic: TrafficShapingConfig | None = None) -> None:
        # httpx logs every request at INFO: with fedgate's root logger at INFO, a line per subgraph call.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._traffic = traffic or TrafficShapingConfig()
        limits = httpx.Limits(
            max_connections=self._traffic.max_connections,
            max_keepalive_connections=min(self._traffic.max_keepalive_connections, self._traffic.max_connections),
            keepalive_expiry=self._traffic.keepalive_expiry,
        )
        self._client = httpx.AsyncClient(
            limits=limits, timeout=_timeout(self._traffic.all), headers=_BASE_HEADERS, http2=_http2(self._traffic)
        )
        self._timeouts = {name: _timeout(self._traffic.for_subgraph(name)) for name in self._traffic.subgraphs}
        self._compress_all = self._traffic.all.compression
        self._compressed = {name: self._traffic.for_subgraph(name).compression for name in self._traffic.subgraphs}
        self._max_bytes = {name: self._traffic.for_subgraph(name).max_response_bytes for name in self._traffic.subgraphs}

    async def fetch(self, request: FetchRequest) -> SubgraphResponse:
        """POST the request's body (a JSON GraphQL request); raise TransportError when no JSON comes back."""
        subgraph_name, url, body, headers = request.subgraph, request.url, request.body, request.headers
        timeout = self._timeouts.get(subgraph_name)
        if self._compressed.get(subgraph_name, self._compress_all):
            headers = {**headers, **_COMPRESSED} if headers else _COMPRESSED
        limit = self._max_bytes.get(subgraph_name, self._traffic.all.max_response_bytes)
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            async with self._client.stream("POST", url, content=body, headers=headers, **kwargs) as response:
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise ResponseTooLarge(limit)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ResponseTooLarge(limit)
                    chunks.append(chunk)
                content = b"".join(chunks)
        except ResponseTooLarge as exc:
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': {exc}", kind="too_large") from exc
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"HTTP fetch failed from '{subgraph_name}': request timed out", kind="timeout"
            ) from exc
        except httpx.HTTPError as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectError) else "reset"
            raise TransportError(
                f"HTTP fetch failed from '{subgraph_name}': {exc or type(exc).__name__}", kind=kind
            ) from exc
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            if response.status_code >= 400:
                raise TransportError(
                    f"HTTP fetch failed from '{subgraph_name}': {response.status_code}: "
                    f"{response.reason_phrase}",
                    status=response.status_code,
                    kind="http_error",
                ) from exc
            raise TransportError(
                f"HTTP fetch failed from '{subgraph_name}': invalid JSON in response", kind="invalid_json"
            ) from exc
        return SubgraphResponse(response.status_code, parsed, response.headers.get("cache-control"), content)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._client.aclose()


def _timeout(cfg: SubgraphTrafficConfig) -> httpx.Timeout:
    """One attempt's timeouts; `timeout` (the whole fetch) caps each of them."""
    read = min(cfg.read_timeout, cfg.timeout)
    return httpx.Timeout(connect=min(cfg.connect_timeout, cfg.timeout), read=read, write=read, pool=cfg.timeout)


def _http2(traffic: TrafficShapingConfig) -> bool:
    if not traffic.http2:
        return False
    try:
        import h2  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("traffic_shaping.http2 needs the `h2` package: pip install 'httpx[http2]'") from exc
    return True
