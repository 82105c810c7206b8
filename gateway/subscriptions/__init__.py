"""Subscriptions: graphql-transport-ws and GraphQL-over-SSE to clients, streams to subgraphs, and the
rest of the plan run on every event (`docs/subscriptions.md`)."""

from gateway.subscriptions.errors import SubscriptionError
from gateway.subscriptions.gate import Gate
from gateway.subscriptions.service import SubscriptionService
from gateway.subscriptions.sse import serve_sse, wants_event_stream
from gateway.subscriptions.websocket import SUBPROTOCOL, init_headers, serve_websocket

__all__ = [
    "SUBPROTOCOL",
    "Gate",
    "SubscriptionError",
    "SubscriptionService",
    "init_headers",
    "serve_sse",
    "serve_websocket",
    "wants_event_stream",
]
