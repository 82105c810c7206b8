"""The saga's events: one immutable record, its JSON form, and the Redis stream it travels on.

Each service publishes to one stream of its own (`<prefix>:events:<service>`); every other
service that reacts to it reads that stream in a consumer group named after itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

# The events of the saga, by the service that emits them (docs/saga.md has the diagrams).
ORDER_PLACED = "OrderPlaced"
ORDER_APPROVED = "OrderApproved"
ORDER_CANCELLED = "OrderCancelled"
ORDER_STATUS_CHANGED = "OrderStatusChanged"
PAYMENT_CAPTURED = "PaymentCaptured"
PAYMENT_DECLINED = "PaymentDeclined"
PAYMENT_REFUNDED = "PaymentRefunded"
AGENT_ASSIGNED = "AgentAssigned"
NO_AGENT_AVAILABLE = "NoAgentAvailable"
ORDER_PICKED_UP = "OrderPickedUp"
ORDER_DELIVERED = "OrderDelivered"
DELIVERY_CANCELLED = "DeliveryCancelled"


class EventFormatError(ValueError):
    """A stream entry that is not an event we can read (it goes to the dead-letter stream)."""


_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_iso(delta_seconds: float = 0.0) -> str:
    """The current time (plus `delta_seconds`) as the ISO 8601 UTC text every table and event uses.

    The fixed width makes these strings sort like the times they name, so SQL compares them directly.
    """
    return (datetime.now(UTC) + timedelta(seconds=delta_seconds)).strftime(_ISO)


def seconds_until(iso: str, delta_seconds: float = 0.0) -> float:
    """Seconds from now until `iso` + `delta_seconds` (negative when that has passed)."""
    when = datetime.strptime(iso, _ISO).replace(tzinfo=UTC) + timedelta(seconds=delta_seconds)
    return (when - datetime.now(UTC)).total_seconds()


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to one order in one service; `id` makes redelivery detectable."""

    type: str
    order_id: str
    source: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=now_iso)

    def to_json(self) -> bytes:
        """The event's wire form (also what the outbox stores)."""
        return orjson.dumps(
            {
                "id": self.id,
                "type": self.type,
                "orderId": self.order_id,
                "source": self.source,
                "at": self.at,
                "data": self.data,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse the wire form; EventFormatError when it is not one."""
        try:
            body = orjson.loads(raw)
            return cls(
                type=_text(body, "type"),
                order_id=_text(body, "orderId"),
                source=_text(body, "source"),
                data=dict(body.get("data") or {}),
                id=_text(body, "id"),
                at=_text(body, "at"),
            )
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            raise EventFormatError(f"not a saga event: {exc}") from exc


def _text(body: dict[str, Any], key: str) -> str:
    value = body[key] if key in body else None
    if not isinstance(value, str) or not value:
        raise EventFormatError(f"field {key!r} is missing or not a string")
    return value


# Events no service of the saga reacts to: they go to a stream of their own, so the consumer
# groups on `<prefix>:events:<service>` never read and skip them.
NOTIFICATIONS = frozenset({ORDER_STATUS_CHANGED})


def stream_name(prefix: str, service: str) -> str:
    """The stream `service` publishes its saga events to."""
    return f"{prefix}:events:{service}"


def stream_for(prefix: str, service: str, type_: str) -> str:
    """Where an event of `type_` from `service` is published: its saga stream, or its notification stream."""
    if type_ in NOTIFICATIONS:
        return f"{prefix}:notifications:{service}"
    return stream_name(prefix, service)


def dead_letter_stream(prefix: str, group: str) -> str:
    """Where `group` parks the events it failed to handle `max_deliveries` times."""
    return f"{prefix}:deadletter:{group}"
