"""The planning layer's one error type."""

from __future__ import annotations

from gateway.errors import GatewayError


class PlanningError(GatewayError):
    """An operation that cannot be planned; the whole response is `data: null` with this error."""

