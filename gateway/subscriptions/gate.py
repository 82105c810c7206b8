"""What the client protocols need from the server, which builds it: the layer below never imports `server/`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from gateway.errors import GraphQLErrorDict
from gateway.execution import PreparedOperation
from gateway.subscriptions.service import PipelineView


class Gate(Protocol):
    """The server's checks and execution, as the WebSocket and SSE handlers use them."""

    def pipeline(self) -> PipelineView | None:
        """The pipeline of the supergraph served now (None before one is loaded)."""
        ...

    def admit(self, headers: Mapping[str, str]) -> GraphQLErrorDict | None:
        """Authentication as on the HTTP path (JWT rules): an error when refused, else None."""
        ...

    def check(
        self, headers: Mapping[str, str], query: str, operation_name: str | None
    ) -> tuple[dict[str, Any] | None, PreparedOperation | None]:
        """Document limits, parse and validation, `@authenticated`/`@requiresScopes`: (a body to answer
        instead, or None; the prepared operation to run, without the fields the caller may not see)."""
        ...

    async def execute(self, headers: Mapping[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        """Run a query or mutation sent over a subscription transport; the GraphQL response body."""
        ...

    def plan_extension(self, headers: Mapping[str, str], prepared: Any) -> dict[str, Any] | None:
        """`extensions.apolloQueryPlan` for the first event when the client asked for it, else None."""
        ...

    def upstream_headers(self, service: str, headers: Mapping[str, str]) -> dict[str, str]:
        """The client headers the header rules forward to subgraph `service`."""
        ...
