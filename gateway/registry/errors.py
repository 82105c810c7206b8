"""The registry's one error type: a stable `code` (the `extensions.code` clients see) and an HTTP status."""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """A refused registry request or a failed registry call; `code` is stable, `status` is the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, **extensions: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extensions = extensions

    def to_json(self) -> dict[str, Any]:
        """The error as the API sends it: `{"errors": [{"message", "extensions": {"code", ...}}]}`."""
        return {"errors": [{"message": self.message, "extensions": {"code": self.code, **self.extensions}}]}


# Stable codes (documented in docs/registry.md).
BAD_REQUEST = "BAD_REQUEST"
INVALID_SDL = "INVALID_SDL"
INVALID_GRAPH_REF = "INVALID_GRAPH_REF"
GRAPH_NOT_FOUND = "GRAPH_NOT_FOUND"
GRAPH_EXISTS = "GRAPH_EXISTS"
VARIANT_NOT_FOUND = "VARIANT_NOT_FOUND"
SUBGRAPH_NOT_FOUND = "SUBGRAPH_NOT_FOUND"
VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
NO_SUPERGRAPH = "NO_SUPERGRAPH"
COMPOSITION_FAILED = "COMPOSITION_FAILED"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
BAD_USAGE_REPORT = "BAD_USAGE_REPORT"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"
