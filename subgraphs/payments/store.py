"""The payments subgraph's SQLite tables, seed data, queries, and its part of the saga.

Charging and refunding happen in `charge` and `refund`, each in the caller's transaction and
each emitting its event (PaymentCaptured, PaymentDeclined, PaymentRefunded) into the outbox:
the explicit mutations and the saga's event handlers share them, so both paths obey the same
rules (one capture per order at most, a refund only of a capture).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from subgraphs.common import INVALID_STATUS_TRANSITION, NOT_FOUND, SubgraphError
from subgraphs.common.bus import Event, Handler, Outbox, Tx
from subgraphs.common.bus import events as ev

_SCHEMA = """
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('CARD', 'CASH')),
    status TEXT NOT NULL CHECK (status IN ('CAPTURED', 'REFUNDED', 'DECLINED')),
    card_brand TEXT,
    card_last4 TEXT,
    processor_reference TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    refunded_at TEXT
);
CREATE INDEX payments_by_order ON payments (order_id, id);
-- Orders we saw cancelled: an OrderPlaced redelivered after its OrderCancelled must not charge.
CREATE TABLE cancelled_orders (
    order_id TEXT PRIMARY KEY,
    cancelled_at TEXT NOT NULL
);
"""
SCHEMA_VERSION = 2

# Matches the orders subgraph's seed: order 1 and 5 paid, order 3 paid then cancelled (refund due).
PAYMENTS = [
    (1, "1", 2250, "EUR", "CARD", "CAPTURED", "VISA", "4242", "sandbox_seed_1", "2026-11-01T12:01:00Z", None),
    (
        2,
        "3",
        1200,
        "EUR",
        "CARD",
        "CAPTURED",
        "MASTERCARD",
        "4444",
        "sandbox_seed_2",
        "2026-11-01T12:11:00Z",
        None,
    ),
    (3, "5", 1900, "EUR", "CASH", "CAPTURED", None, None, "sandbox_seed_3", "2026-11-01T12:21:00Z", None),
]

# The sandbox processor charges a card payment without a number to this test card.
SANDBOX_CARD = ("VISA", "4242")
# Stripe's "generic decline" test card: declined by default (env SAGA_DECLINE_CARDS).
DECLINED_CARD = "4000000000000002"
# Totals above this are declined by default (env SAGA_DECLINE_ABOVE_CENTS).
DECLINE_ABOVE_CENTS = 100_000


@dataclass(frozen=True, slots=True)
class DeclinePolicy:
    """The sandbox processor's deterministic test hooks: which charges it refuses."""

    cards: frozenset[str] = frozenset({DECLINED_CARD})
    above_cents: int = DECLINE_ABOVE_CENTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeclinePolicy:
        """SAGA_DECLINE_CARDS (comma-separated numbers) and SAGA_DECLINE_ABOVE_CENTS."""
        env = os.environ if env is None else env
        cards = env.get("SAGA_DECLINE_CARDS", DECLINED_CARD)
        return cls(
            cards=frozenset(c.strip() for c in cards.split(",") if c.strip()),
            above_cents=int(env.get("SAGA_DECLINE_ABOVE_CENTS", str(DECLINE_ABOVE_CENTS))),
        )

    def reason(self, cents: int, card: str | None) -> str | None:
        """Why this charge is declined, or None when it goes through."""
        if card is not None and card in self.cards:
            return f"card ending {card[-4:]} was declined"
        if cents > self.above_cents:
            return f"amount {cents} cents is above the limit of {self.above_cents}"
        return None


def _card(number: str | None) -> tuple[str, str]:
    if not number:
        return SANDBOX_CARD
    brand = {"4": "VISA", "5": "MASTERCARD", "3": "AMEX"}.get(number[0], "CARD")
    return brand, number[-4:]


def setup(conn: sqlite3.Connection) -> None:
    """Create the table and the seed rows (called once, in a transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PAYMENTS)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _payment(row: sqlite3.Row) -> dict[str, Any]:
    details: dict[str, Any]
    if row["method"] == "CARD":
        details = {"__typename": "CardDetails", "brand": row["card_brand"], "last4": row["card_last4"]}
    else:
        details = {"__typename": "CashDetails", "collectOnDelivery": True}
    return {
        "id": str(row["id"]),
        "order": {"id": row["order_id"]},
        "amount": {"cents": row["amount_cents"], "currency": row["currency"]},
        "method": row["method"],
        "status": row["status"],
        "details": details,
        "paidAt": row["paid_at"],
        "refundedAt": row["refunded_at"],
        "processorReference": row["processor_reference"],
    }


def _latest(conn: sqlite3.Connection, order_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM payments WHERE order_id = ? ORDER BY id DESC LIMIT 1", (order_id,)
    ).fetchone()
    return row


class PaymentsStore:
    """Every read and write the payments resolvers need."""

    def __init__(self, outbox: Outbox, policy: DeclinePolicy) -> None:
        self.outbox = outbox
        self.db = outbox.db
        self.policy = policy

    async def payments_by_ids(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """Payments in the order of `ids`; None for unknown ids."""
        wanted = [i for i in ids if str(i).isdigit()]

        def query(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            if not wanted:
                return []
            marks = ", ".join("?" * len(wanted))
            return conn.execute(f"SELECT * FROM payments WHERE id IN ({marks})", wanted).fetchall()

        by_id = {str(row["id"]): _payment(row) for row in await self.db.read(query)}
        return [by_id.get(str(i)) for i in ids]

    async def latest_by_order(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The newest payment of each order that has one, by order id."""

        def query(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            marks = ", ".join("?" * len(order_ids))
            return conn.execute(
                f"""SELECT * FROM payments WHERE id IN (
                        SELECT MAX(id) FROM payments WHERE order_id IN ({marks}) GROUP BY order_id)""",
                order_ids,
            ).fetchall()

        if not order_ids:
            return {}
        return {row["order_id"]: _payment(row) for row in await self.db.read(query)}

    async def capture(self, order: dict[str, Any], method: str) -> dict[str, Any]:
        """payOrder: charge the order's total; INVALID_STATUS_TRANSITION when it is already paid."""
        order_id = str(order["id"])

        def write(tx: Tx) -> dict[str, Any]:
            latest = _latest(tx.conn, order_id)
            if latest is not None and latest["status"] == "CAPTURED":
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} is already paid")
            if tx.conn.execute("SELECT 1 FROM cancelled_orders WHERE order_id = ?", (order_id,)).fetchone():
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} is cancelled and cannot be paid")
            return charge(tx, self.policy, order_id, order["total"]["cents"], order["total"]["currency"], method, None)

        return await self.outbox.write(write)

    async def refund(self, order_id: str) -> dict[str, Any]:
        """refundPayment: refund the order's captured payment; NOT_FOUND or INVALID_STATUS_TRANSITION otherwise."""

        def write(tx: Tx) -> dict[str, Any]:
            latest = _latest(tx.conn, order_id)
            if latest is None:
                raise SubgraphError(NOT_FOUND, f"order {order_id} has no payment")
            if latest["status"] != "CAPTURED":
                raise SubgraphError(
                    INVALID_STATUS_TRANSITION, f"the payment of order {order_id} is {latest['status']}"
                )
            return refund(tx, latest, "refunded on request")

        return await self.outbox.write(write)


def charge(
    tx: Tx, policy: DeclinePolicy, order_id: str, cents: int, currency: str, method: str, card: str | None
) -> dict[str, Any]:
    """Record a capture or a decline of `cents` and emit PaymentCaptured or PaymentDeclined."""
    declined = policy.reason(cents, card if method == "CARD" else None)
    brand, last4 = _card(card) if method == "CARD" else (None, None)
    cursor = tx.conn.execute(
        """INSERT INTO payments (order_id, amount_cents, currency, method, status, card_brand,
                                 card_last4, processor_reference, paid_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            order_id,
            cents,
            currency,
            method,
            "DECLINED" if declined else "CAPTURED",
            brand,
            last4,
            f"sandbox_{uuid.uuid4().hex}",
            _now(),
        ),
    )
    payment = _payment(tx.conn.execute("SELECT * FROM payments WHERE id = ?", (cursor.lastrowid,)).fetchone())
    data = {"paymentId": payment["id"], "amount": payment["amount"], "method": method}
    if declined:
        tx.emit(ev.PAYMENT_DECLINED, order_id, {**data, "reason": declined})
    else:
        tx.emit(ev.PAYMENT_CAPTURED, order_id, data)
    return payment


def refund(tx: Tx, payment_row: sqlite3.Row, reason: str) -> dict[str, Any]:
    """Mark a captured payment refunded and emit PaymentRefunded."""
    tx.conn.execute(
        "UPDATE payments SET status = 'REFUNDED', refunded_at = ? WHERE id = ? AND status = 'CAPTURED'",
        (_now(), payment_row["id"]),
    )
    payment = _payment(tx.conn.execute("SELECT * FROM payments WHERE id = ?", (payment_row["id"],)).fetchone())
    tx.emit(
        ev.PAYMENT_REFUNDED,
        payment["order"]["id"],
        {"paymentId": payment["id"], "amount": payment["amount"], "reason": reason},
    )
    return payment


def handlers(policy: DeclinePolicy) -> dict[str, dict[str, Handler]]:
    """What payments does with the orders service's events."""

    def on_placed(tx: Tx, event: Event) -> None:
        order_id = event.order_id
        if tx.conn.execute("SELECT 1 FROM cancelled_orders WHERE order_id = ?", (order_id,)).fetchone():
            return  # cancelled before we got to it: nothing to charge
        if _latest(tx.conn, order_id) is not None:
            return  # paid already (payOrder got there first): one charge per order
        total = event.data["total"]
        payment = event.data.get("payment") or {}
        charge(
            tx,
            policy,
            order_id,
            int(total["cents"]),
            str(total["currency"]),
            str(payment.get("method") or "CARD"),
            payment.get("cardNumber"),
        )

    def on_cancelled(tx: Tx, event: Event) -> None:
        tx.conn.execute(
            "INSERT OR IGNORE INTO cancelled_orders (order_id, cancelled_at) VALUES (?, ?)", (event.order_id, _now())
        )
        latest = _latest(tx.conn, event.order_id)
        if latest is not None and latest["status"] == "CAPTURED":
            refund(tx, latest, event.data.get("detail") or "order cancelled")

    return {"orders": {ev.ORDER_PLACED: on_placed, ev.ORDER_CANCELLED: on_cancelled}}
