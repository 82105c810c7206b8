"""The server's side of subscriptions: the `Gate` (auth, limits, execution) the protocols use, and
the WebSocket and SSE entry points on `/graphql`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.errors import INTERNAL_SERVER_ERROR, GraphQLErrorDict, error_dict
from gateway.execution import PreparedOperation
from gateway.planning import print_plan
from gateway.server.auth import AuthError
from gateway.server.guard import Guard
from gateway.server.query_plan_json import plan_to_json
from gateway.subscriptions import SubscriptionService, serve_sse, serve_websocket
from gateway.subscriptions.service import PipelineView

log = logging.getLogger("fedgate.server")


class ServerGate:
    """`gateway.subscriptions.Gate` over the app's state and guard: the HTTP path's rules, reused."""

    def __init__(self, state: Any, guard: Guard) -> None:
        self.state = state
        self.guard = guard

    def pipeline(self) -> PipelineView | None:
        pipeline: PipelineView | None = self.state.pipeline
        return pipeline

    def _claims(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        return self.guard.jwt.claims(headers) if self.guard.jwt is not None else None

    def admit(self, headers: Mapping[str, str]) -> GraphQLErrorDict | None:
        try:
            claims = self._claims(headers)
        except AuthError as exc:
            return exc.error
        if claims is None and self.guard.require_auth:
            return error_dict("Authentication is required.", "UNAUTHENTICATED")
        return None

    def check(
        self, headers: Mapping[str, str], query: str, operation_name: str | None
    ) -> tuple[dict[str, Any] | None, PreparedOperation | None]:
        try:
            claims = self._claims(headers)
        except AuthError:
            claims = None  # `admit` refused it already
        refused, prepared = self.state.pipeline.admit(query, operation_name, claims)
        if refused is not None:
            return self.guard.after(refused).body, None
        return None, prepared

    async def execute(self, headers: Mapping[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.state.pipeline
        try:
            claims = self._claims(headers)
        except AuthError:
            claims = None  # `admit` refused it already
        try:
            result = await pipeline.run(
                payload.get("query"),
                payload.get("operationName"),
                payload.get("variables"),
                allow_mutations=True,
                client_headers=headers,
                claims=claims,
            )
        except Exception:  # noqa: BLE001 - never a bare failure to a client
            log.exception("operation over a subscription transport failed")
            return {"errors": [error_dict("Internal server error.", INTERNAL_SERVER_ERROR)]}
        body: dict[str, Any] = self.guard.after(result).body
        return body

    def plan_extension(self, headers: Mapping[str, str], prepared: Any) -> dict[str, Any] | None:
        if not self.state.config.expose_query_plan or prepared.plan is None:
            return None
        if headers.get("apollo-expose-query-plan", "").lower() != "true":
            return None
        return {"object": plan_to_json(prepared.plan), "text": print_plan(prepared.plan)}

    def upstream_headers(self, service: str, headers: Mapping[str, str]) -> dict[str, str]:
        if self.guard.rules.empty:
            return {}
        try:
            claims = self._claims(headers)
        except AuthError:
            claims = None
        return self.guard.rules.for_subgraph(service, headers, claims)


class Streaming:
    """The subscription service of one app and its two client transports."""

    def __init__(self, state: Any, guard: Guard) -> None:
        self.service = SubscriptionService(state.config.subscriptions)
        self.gate = ServerGate(state, guard)

    async def websocket(self, ws: WebSocket) -> None:
        """`/graphql` WebSocket route (graphql-transport-ws)."""
        await serve_websocket(ws, self.service, self.gate)

    async def sse(self, request: Request, payload: dict[str, Any]) -> Response:
        """A `/graphql` request that accepts `text/event-stream`."""
        return await serve_sse(self.service, self.gate, request.headers, payload)
