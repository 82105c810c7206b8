"""The per-request record the middleware opens and every layer below may read (request id, claims)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RequestInfo:
    """What one HTTP request carries through the gateway; lives in `CURRENT` while it is handled."""

    request_id: str
    # The client's headers as ASGI gives them; `client_headers` decodes them on first use.
    raw_headers: list[tuple[bytes, bytes]]
    traceparent: str | None = None
    tracestate: str | None = None
    operation: str = ""
    errors: bool = False
    # A GraphQL request error (not executed), whatever status the media type gave it.
    refused: bool = False
    claims: dict[str, Any] | None = None
    # Filled by the auth filter: (error paths, null targets) to apply to the response.
    denied: Any = None
    # Subgraph name -> headers to send (built on first fetch to that subgraph).
    outbound: dict[str, dict[str, str]] = field(default_factory=dict)
    _headers: Mapping[str, str] | None = None

    @property
    def client_headers(self) -> Mapping[str, str]:
        """The client's headers, lower-case names (built once, only when a rule needs them)."""
        if self._headers is None:
            self._headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}
        return self._headers


CURRENT: ContextVar[RequestInfo | None] = ContextVar("fedgate_request", default=None)


def current() -> RequestInfo | None:
    """The request being handled in this task, if any."""
    return CURRENT.get()
