"""The subscriptions layer's error base and its stable codes."""

from __future__ import annotations

from gateway.errors import GraphQLErrorDict, error_dict

SUBSCRIPTION_LIMIT_REACHED = "SUBSCRIPTION_LIMIT_REACHED"
SUBSCRIPTIONS_DISABLED = "SUBSCRIPTIONS_DISABLED"
SUBSCRIPTION_SCHEMA_CHANGED = "SUBSCRIPTION_SCHEMA_CHANGED"
GATEWAY_SHUTTING_DOWN = "GATEWAY_SHUTTING_DOWN"


class SubscriptionError(Exception):
    """A subscription that cannot start (or must end): `errors` are what the client is sent."""

    def __init__(self, errors: list[GraphQLErrorDict], status: int = 400) -> None:
        super().__init__(errors[0]["message"] if errors else "subscription error")
        self.errors = errors
        self.status = status

    @classmethod
    def of(cls, message: str, code: str, status: int = 400) -> SubscriptionError:
        """One error with `extensions.code`."""
        return cls([error_dict(message, code)], status)
