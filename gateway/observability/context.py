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
    client_headers: Mapping[str, str]
    operation: str = ""
    errors: bool = False
    claims: dict[str, Any] | None = None
    # Filled by the auth filter: (error paths, null targets) to apply to the response.
    denied: Any = None
    # Subgraph name -> headers to send (built on first fetch to that subgraph).
    outbound: dict[str, dict[str, str]] = field(default_factory=dict)


CURRENT: ContextVar[RequestInfo | None] = ContextVar("fedgate_request", default=None)


def current() -> RequestInfo | None:
    """The request being handled in this task, if any."""
    return CURRENT.get()
