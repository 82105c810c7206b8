"""The supergraph layer's one error type."""

from __future__ import annotations

from gateway.errors import GatewayError


class SupergraphError(GatewayError):
    """A supergraph that cannot be loaded; `code` is stable, `message` says what to fix."""

