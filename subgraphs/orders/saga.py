"""The orders service's part of the saga: the one place an order's status changes, its reactions
to payments' and delivery's events, and the auto-approve timer.

`change_status` is the only code that writes `orders.status`. In the caller's transaction it
records the step in `order_events` (what `Order.events` lists), emits `OrderStatusChanged`
(plus `OrderPlaced` / `OrderApproved` / `OrderCancelled`, the events other services react to)
into the outbox, and after the commit hands a `StatusChange` to the `StatusFeed`: the
in-process hook a subscription (`orderStatusChanged`) attaches to.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from typing import Any

from subgraphs.common import INVALID_STATUS_TRANSITION, NOT_FOUND, SubgraphError
from subgraphs.common.bus import Event, Handler, Tick, Tx, now_iso, seconds_until
from subgraphs.common.bus import events as ev

_log = logging.getLogger("subgraphs.orders.saga")

SERVICE = "orders"

# Which statuses each status may follow; anything else is INVALID_STATUS_TRANSITION.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "PLACED": frozenset({""}),
    "PAID": frozenset({"PLACED"}),
    "APPROVED": frozenset({"PAID"}),
    "ASSIGNED": frozenset({"APPROVED"}),
    "PICKED_UP": frozenset({"ASSIGNED"}),
    "DELIVERED": frozenset({"ASSIGNED", "PICKED_UP"}),
    "CANCELLED": frozenset({"PLACED", "PAID", "APPROVED", "ASSIGNED"}),
}
# The statuses a customer may still cancel in (before pickup) and a restaurant may reject in.
CANCELLABLE = ALLOWED_FROM["CANCELLED"]
REJECTABLE = frozenset({"PLACED", "PAID"})

# The domain event other services react to, for the status changes they care about.
_DOMAIN_EVENTS = {"PLACED": ev.ORDER_PLACED, "APPROVED": ev.ORDER_APPROVED, "CANCELLED": ev.ORDER_CANCELLED}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A committed change of an order's status, as subscribers receive it."""

    order_id: str
    status: str
    previous: str | None
    event: str
    service: str
    at: str
    detail: str | None = None


class StatusFeed:
    """Every committed status change, in commit order, to whoever listens in this process."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[StatusChange], None]] = []

    def add_listener(self, listener: Callable[[StatusChange], None]) -> Callable[[], None]:
        """Call `listener(change)` on the event loop after each commit; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, change: StatusChange) -> None:
        """Hand `change` to every listener (a failing listener does not stop the others)."""
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - one subscriber's bug must not break the saga
                _log.exception("status listener %r failed", listener)

    async def subscribe(self, order_id: str | None = None) -> AsyncIterator[StatusChange]:
        """Changes from now on (of one order, or of all), until the consumer stops iterating."""
        queue: asyncio.Queue[StatusChange] = asyncio.Queue()

        def put(change: StatusChange) -> None:
            if order_id is None or change.order_id == str(order_id):
                queue.put_nowait(change)

        remove = self.add_listener(put)
        try:
            while True:
                yield await queue.get()
        finally:
            remove()


def _order_facts(conn: sqlite3.Connection, order_id: str) -> dict[str, Any]:
    # What payments and delivery need to act without calling us back.
    row = conn.execute(
        """SELECT o.status, o.total_cents, o.currency, o.city, r.slug, r.city AS restaurant_city, r.name
           FROM orders o JOIN restaurants r ON r.id = o.restaurant_id WHERE o.id = ?""",
        (order_id,),
    ).fetchone()
    if row is None:
        raise SubgraphError(NOT_FOUND, f"order {order_id} does not exist")
    return {
        "status": row["status"],
        "total": {"cents": row["total_cents"], "currency": row["currency"]},
        "deliveryCity": row["city"],
        "restaurant": {"slug": row["slug"], "city": row["restaurant_city"], "name": row["name"]},
    }


def record_history(
    tx: Tx, order_id: str, event: str, service: str, at: str, status: str, detail: str | None = None
) -> None:
    """One line of `Order.events` for a step that did not change the status (e.g. PaymentRefunded)."""
    tx.conn.execute(
        "INSERT INTO order_events (order_id, type, service, at, status, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (int(order_id), event, service, at, status, detail),
    )


def change_status(
    tx: Tx,
    feed: StatusFeed,
    order_id: str,
    to: str,
    *,
    event: str,
    service: str = SERVICE,
    at: str | None = None,
    detail: str | None = None,
    extra: dict[str, Any] | None = None,
) -> StatusChange:
    """THE place an order's status changes (see the module docstring); INVALID_STATUS_TRANSITION when `to` may not follow."""
    order_id = str(order_id)
    facts = _order_facts(tx.conn, order_id)
    previous = "" if event == ev.ORDER_PLACED else facts["status"]
    if previous not in ALLOWED_FROM[to]:
        raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} is {previous}; it cannot become {to}")
    at = at or now_iso()
    tx.conn.execute("UPDATE orders SET status = ?, status_changed_at = ? WHERE id = ?", (to, now_iso(), int(order_id)))
    record_history(tx, order_id, event, service, at, to, detail)
    change = StatusChange(order_id, to, previous or None, event, service, at, detail)
    tx.emit(ev.ORDER_STATUS_CHANGED, order_id, asdict(change))
    domain = _DOMAIN_EVENTS.get(to)
    if domain is not None:
        data = {**facts, "status": to, "detail": detail, **(extra or {})}
        tx.emit(domain, order_id, data)
    tx.after_commit(lambda: feed.publish(change))
    return change


def _status(tx: Tx, order_id: str) -> str:
    row = tx.conn.execute("SELECT status FROM orders WHERE id = ?", (_row_id(order_id),)).fetchone()
    if row is None:
        # Not ours to guess: the consumer retries it and then dead-letters it.
        raise LookupError(f"event for order {order_id}, which does not exist")
    status: str = row["status"]
    return status


def _row_id(order_id: str) -> int:
    if not order_id.isdigit():
        raise LookupError(f"event for order {order_id!r}, which is not an order id")
    return int(order_id)


def handlers(feed: StatusFeed) -> dict[str, dict[str, Handler]]:
    """What orders does with payments' and delivery's events, by source service and event type."""

    def step(when: frozenset[str], to: str, detail: Callable[[Event], str | None] = lambda e: None) -> Handler:
        # Move to `to` when the order is in `when`; otherwise only note the event in the history.
        def handle(tx: Tx, event: Event) -> None:
            status = _status(tx, event.order_id)
            if status in when:
                change_status(
                    tx, feed, event.order_id, to, event=event.type, service=event.source, at=event.at, detail=detail(event)
                )
            else:
                record_history(tx, event.order_id, event.type, event.source, event.at, status, detail(event))

        return handle

    def note(tx: Tx, event: Event) -> None:
        status = _status(tx, event.order_id)
        record_history(tx, event.order_id, event.type, event.source, event.at, status, event.data.get("reason"))

    def reason(event: Event) -> str | None:
        value = event.data.get("reason")
        return str(value) if value is not None else None

    return {
        "payments": {
            ev.PAYMENT_CAPTURED: step(frozenset({"PLACED"}), "PAID"),
            ev.PAYMENT_DECLINED: step(frozenset({"PLACED"}), "CANCELLED", reason),
            ev.PAYMENT_REFUNDED: note,
        },
        "delivery": {
            ev.AGENT_ASSIGNED: step(frozenset({"APPROVED"}), "ASSIGNED", lambda e: e.data.get("agentName")),
            ev.NO_AGENT_AVAILABLE: step(frozenset({"APPROVED"}), "CANCELLED", reason),
            ev.ORDER_PICKED_UP: step(frozenset({"ASSIGNED"}), "PICKED_UP"),
            ev.ORDER_DELIVERED: step(frozenset({"ASSIGNED", "PICKED_UP"}), "DELIVERED"),
            ev.DELIVERY_CANCELLED: note,
        },
    }


def auto_approve(feed: StatusFeed, delay_seconds: float, batch: int = 100) -> Tick:
    """The timer that approves PAID orders `delay_seconds` after payment (never when negative)."""

    def tick(tx: Tx) -> float | None:
        if delay_seconds < 0:
            return None
        cutoff = now_iso(-delay_seconds)
        due = tx.conn.execute(
            "SELECT id FROM orders WHERE status = 'PAID' AND status_changed_at <= ? ORDER BY status_changed_at LIMIT ?",
            (cutoff, batch),
        ).fetchall()
        for row in due:
            change_status(
                tx, feed, str(row["id"]), "APPROVED", event=ev.ORDER_APPROVED, detail=f"auto-approved after {delay_seconds:g}s"
            )
        if len(due) == batch:
            return 0.0
        oldest = tx.conn.execute("SELECT MIN(status_changed_at) FROM orders WHERE status = 'PAID'").fetchone()[0]
        return None if oldest is None else seconds_until(oldest, delay_seconds)

    tick.__name__ = "auto_approve"
    return tick
