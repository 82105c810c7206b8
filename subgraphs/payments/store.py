"""The payments subgraph's SQLite table, seed data and queries."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from subgraphs.common import INVALID_STATUS_TRANSITION, NOT_FOUND, Database, SubgraphError

_SCHEMA = """
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('CARD', 'CASH')),
    status TEXT NOT NULL CHECK (status IN ('CAPTURED', 'REFUNDED')),
    card_brand TEXT,
    card_last4 TEXT,
    processor_reference TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    refunded_at TEXT
);
CREATE INDEX payments_by_order ON payments (order_id, id);
"""

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

# The sandbox processor charges every card payment to this test card.
SANDBOX_CARD = ("VISA", "4242")


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

    def __init__(self, db: Database) -> None:
        self.db = db

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
        """Charge the order's total; INVALID_STATUS_TRANSITION when it is already paid."""
        order_id = str(order["id"])

        def write(conn: sqlite3.Connection) -> dict[str, Any]:
            latest = _latest(conn, order_id)
            if latest is not None and latest["status"] == "CAPTURED":
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} is already paid")
            brand, last4 = SANDBOX_CARD if method == "CARD" else (None, None)
            cursor = conn.execute(
                """INSERT INTO payments (order_id, amount_cents, currency, method, status, card_brand,
                                         card_last4, processor_reference, paid_at)
                   VALUES (?, ?, ?, ?, 'CAPTURED', ?, ?, ?, ?)""",
                (
                    order_id,
                    order["total"]["cents"],
                    order["total"]["currency"],
                    method,
                    brand,
                    last4,
                    f"sandbox_{uuid.uuid4().hex}",
                    _now(),
                ),
            )
            return _payment(
                conn.execute("SELECT * FROM payments WHERE id = ?", (cursor.lastrowid,)).fetchone()
            )

        return await self.db.write(write)

    async def refund(self, order_id: str) -> dict[str, Any]:
        """Refund the order's captured payment; NOT_FOUND or INVALID_STATUS_TRANSITION otherwise."""

        def write(conn: sqlite3.Connection) -> dict[str, Any]:
            latest = _latest(conn, order_id)
            if latest is None:
                raise SubgraphError(NOT_FOUND, f"order {order_id} has no payment")
            if latest["status"] != "CAPTURED":
                raise SubgraphError(
                    INVALID_STATUS_TRANSITION, f"the payment of order {order_id} is {latest['status']}"
                )
            conn.execute(
                "UPDATE payments SET status = 'REFUNDED', refunded_at = ? WHERE id = ?",
                (_now(), latest["id"]),
            )
            return _payment(conn.execute("SELECT * FROM payments WHERE id = ?", (latest["id"],)).fetchone())

        return await self.db.write(write)
