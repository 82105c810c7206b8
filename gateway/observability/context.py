"""RequestContext: one client request as every layer below the server sees it.

The server creates it (gateway/server/guard.py, per `/graphql` request) and passes it explicitly: to the
pipeline, to execution, and inside each `transport.FetchRequest`. No context variable carries it; the
one exception is the request id the log formatter adds to every line (observability/logging.py), which
is logging's own and read by nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.observability.tracing import Tracing


@dataclass(slots=True)
class RequestContext:
    """What one client request carries through the gateway."""

    request_id: str
    # The client's headers as ASGI gives them; `client_headers` decodes them on first use.
    raw_headers: list[tuple[bytes, bytes]]
    traceparent: str | None = None
    tracestate: str | None = None
    # The app's tracer when tracing is on (spans for plan nodes and fetches), else None.
    tracing: Tracing | None = None
    # The caller's verified token claims (None: anonymous or no JWT configured).
    claims: dict[str, Any] | None = None
    # Filled by the server for metrics and the access log.
    operation: str = ""
    errors: bool = False
    # A GraphQL request error (not executed), whatever status the media type gave it.
    refused: bool = False
    # Subgraph name -> headers to send (built on first fetch to that subgraph).
    outbound: dict[str, dict[str, str]] = field(default_factory=dict)
    # The plugins' per-request context (gateway.plugins.PluginContext) when plugins are configured.
    plugin: Any = None
    _headers: Mapping[str, str] | None = None

    @property
    def client_headers(self) -> Mapping[str, str]:
        """The client's headers, lower-case names (built once, only when a rule needs them)."""
        if self._headers is None:
            self._headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}
        return self._headers


# The name the branches written before RequestContext know it by.
RequestInfo = RequestContext
