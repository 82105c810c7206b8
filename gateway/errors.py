"""Shared error shapes: the GraphQL error objects the gateway returns, and stable `extensions.code`s."""

from __future__ import annotations

from typing import Any

# Request errors (no execution happened; HTTP 4xx).
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
SUBSCRIPTION_TRANSPORT_REQUIRED = "SUBSCRIPTION_TRANSPORT_REQUIRED"  # a subscription over plain HTTP (406)
# Execution errors (the response still has `data`).
QUERY_PLANNING_FAILED = "QUERY_PLANNING_FAILED"
SUBGRAPH_REQUEST_FAILED = "SUBGRAPH_REQUEST_FAILED"
SUBGRAPH_UNAVAILABLE = "SUBGRAPH_UNAVAILABLE"  # unreachable, timed out, 502-504 or circuit open
DOWNSTREAM_SERVICE_ERROR = "DOWNSTREAM_SERVICE_ERROR"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

GraphQLErrorDict = dict[str, Any]
"""A GraphQL error as sent on the wire: `message`, optional `locations`, `path`, `extensions`."""


def error_dict(
    message: str,
    code: str | None = None,
    *,
    path: list[str | int] | None = None,
    locations: list[dict[str, int]] | None = None,
    **extensions: Any,
) -> GraphQLErrorDict:
    """Build a GraphQL error object with keys in the conventional order."""
    err: GraphQLErrorDict = {"message": message}
    if locations:
        err["locations"] = locations
    if path is not None:
        err["path"] = path
    ext: dict[str, Any] = {}
    if code is not None:
        ext["code"] = code
    ext.update(extensions)
    if ext:
        err["extensions"] = ext
    return err


class GatewayError(Exception):
    """The base of every layer's error type: a stable `code` (the `extensions.code` a user sees, or the
    code a CLI prints) and a message that says what to fix. Each layer has one subclass (CompositionError,
    SupergraphError, PlanningError, TransportError, CacheError, ConfigError, GatewayRequestError...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GatewayRequestError(GatewayError):
    """A request that fails before execution (parse, validation, variables, unknown operation).

    `errors` are the GraphQL errors to return; `status` is the HTTP status to use.
    """

    def __init__(self, errors: list[GraphQLErrorDict], status: int = 400) -> None:
        first = errors[0] if errors else {}
        super().__init__(first.get("extensions", {}).get("code", BAD_REQUEST), first.get("message", "request error"))
        self.errors = errors
        self.status = status
