"""The one error type resolvers raise; its `code` is the `extensions.code` a client sees."""

from __future__ import annotations

from graphql import GraphQLError

NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
NO_AGENT_AVAILABLE = "NO_AGENT_AVAILABLE"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class SubgraphError(GraphQLError):
    """A domain error with a stable code, reported as a GraphQL error with `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def parse_id(value: object, what: str) -> int:
    """Turn a GraphQL `ID` into a row id; an id that cannot exist is reported as NOT_FOUND."""
    text = str(value)
    # Only the canonical decimal form names a row: int() would also take " 5", "0005", "5_0", "٥".
    if not (text.isascii() and text.isdigit()) or text != str(int(text)):
        raise SubgraphError(NOT_FOUND, f"{what} {value!r} does not exist")
    row_id = int(text)
    if row_id < 1:
        raise SubgraphError(NOT_FOUND, f"{what} {value!r} does not exist")
    return row_id
