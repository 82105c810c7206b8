"""The delivery subgraph's SQLite tables, seed data, queries, and its part of the saga.

`assign_agent`, `pick_up`, `deliver` and `cancel_delivery` each run in the caller's transaction
and emit their event into the outbox; the explicit mutations, the OrderApproved/OrderCancelled
handlers and the pickup/ride timers share them.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from subgraphs.common import INVALID_STATUS_TRANSITION, NOT_FOUND, SubgraphError
from subgraphs.common.bus import Event, Handler, Outbox, Tick, Tx, now_iso, seconds_until
from subgraphs.common.bus import events as ev
from subgraphs.common.errors import NO_AGENT_AVAILABLE, parse_id

_SCHEMA = """
CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    vehicle TEXT NOT NULL CHECK (vehicle IN ('BIKE', 'SCOOTER', 'CAR')),
    city TEXT NOT NULL,
    available INTEGER NOT NULL
);
CREATE TABLE partners (
    slug TEXT NOT NULL,
    city TEXT NOT NULL,
    name TEXT NOT NULL,
    average_prep_minutes INTEGER NOT NULL,
    PRIMARY KEY (slug, city)
);
CREATE TABLE zones (
    city TEXT PRIMARY KEY,
    ride_minutes INTEGER NOT NULL
);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL UNIQUE,
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    status TEXT NOT NULL CHECK (status IN ('ASSIGNED', 'PICKED_UP', 'DELIVERED', 'CANCELLED')),
    assigned_at TEXT NOT NULL,
    delivered_at TEXT,
    pickup_slug TEXT NOT NULL,
    pickup_city TEXT NOT NULL,
    pickup_name TEXT NOT NULL,
    picked_up_at TEXT
);
CREATE INDEX deliveries_by_status ON deliveries (status, assigned_at);
-- Orders we saw cancelled: an OrderApproved redelivered after its OrderCancelled must not assign.
CREATE TABLE cancelled_orders (
    order_id TEXT PRIMARY KEY,
    cancelled_at TEXT NOT NULL
);
"""
SCHEMA_VERSION = 2

AGENTS = [
    (1, "Kai Becker", "+49 30 1111", "BIKE", "Berlin", 1),
    (2, "Mia Schulz", "+49 30 2222", "SCOOTER", "Berlin", 1),
    (3, "Jonas Wolf", "+49 40 3333", "CAR", "Hamburg", 1),
    (4, "Lea Braun", "+49 40 4444", "BIKE", "Hamburg", 1),
]
PARTNERS = [
    ("napoli", "Berlin", "Pizzeria Napoli", 15),
    ("sushi-go", "Hamburg", "Sushi Go", 20),
    ("curry-36", "Berlin", "Curry 36", 8),
]
ZONES = [("Berlin", 20), ("Hamburg", 25)]
# Order 1 of the orders seed has been delivered by Kai.
DELIVERIES = [
    (
        1,
        "1",
        1,
        "DELIVERED",
        "2026-11-01T12:30:00Z",
        "2026-11-01T12:55:00Z",
        "napoli",
        "Berlin",
        "Pizzeria Napoli",
        "2026-11-01T12:40:00Z",
    ),
]

# Used for a city without a zone and for a restaurant outside the partner directory.
DEFAULT_RIDE_MINUTES = 40
DEFAULT_PREP_MINUTES = 15
# Added to the estimate while no agent has been assigned yet.
WAITING_FOR_AGENT_MINUTES = 10


def setup(conn: sqlite3.Connection) -> None:
    """Create the tables and the seed rows (called once, in a transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO agents VALUES (?, ?, ?, ?, ?, ?)", AGENTS)
    conn.executemany("INSERT INTO partners VALUES (?, ?, ?, ?)", PARTNERS)
    conn.executemany("INSERT INTO zones VALUES (?, ?)", ZONES)
    conn.executemany("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", DELIVERIES)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _agent(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "phone": row["phone"],
        "vehicle": row["vehicle"],
        "city": row["city"],
        "available": bool(row["available"]),
    }


def _delivery(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "order": {"id": row["order_id"]},
        "agentId": str(row["agent_id"]),
        "status": row["status"],
        "assignedAt": row["assigned_at"],
        "pickedUpAt": row["picked_up_at"],
        "deliveredAt": row["delivered_at"],
        # name comes from our copy: that is what @provides(fields: "name") promises.
        "pickup": {"slug": row["pickup_slug"], "city": row["pickup_city"], "name": row["pickup_name"]},
    }


def _in(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


class DeliveryStore:
    """Every read and write the delivery resolvers need."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.db = outbox.db

    async def deliveries_by_ids(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """Deliveries in the order of `ids`; None for unknown ids."""
        wanted = [i for i in ids if str(i).isdigit()]
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT * FROM deliveries WHERE id IN ({_in(wanted)})", wanted
            ).fetchall()
        )
        by_id = {str(r["id"]): _delivery(r) for r in rows}
        return [by_id.get(str(i)) for i in ids]

    async def deliveries_by_order(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The delivery of each order that has one, by order id."""
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"SELECT * FROM deliveries WHERE order_id IN ({_in(order_ids)})", order_ids
            ).fetchall()
        )
        return {r["order_id"]: _delivery(r) for r in rows}

    async def deliveries_of_agent(self, agent_id: str) -> list[dict[str, Any]]:
        """An agent's deliveries, newest first."""
        rows = await self.db.read(
            lambda conn: conn.execute(
                "SELECT * FROM deliveries WHERE agent_id = ? ORDER BY id DESC", (agent_id,)
            ).fetchall()
        )
        return [_delivery(r) for r in rows]

    async def agents_by_ids(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """Agents in the order of `ids`; None for unknown ids."""
        rows = await self.db.read(lambda conn: conn.execute("SELECT * FROM agents").fetchall())
        by_id = {str(r["id"]): _agent(r) for r in rows}
        return [by_id.get(str(i)) for i in ids]

    async def agents(self, city: str | None) -> list[dict[str, Any]]:
        """All agents, or those based in `city`."""
        rows = await self.db.read(
            lambda conn: conn.execute(
                "SELECT * FROM agents WHERE ? IS NULL OR city = ? ORDER BY id", (city, city)
            ).fetchall()
        )
        return [_agent(r) for r in rows]

    async def partners(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Restaurants by (slug, city); one we have no partner record for gets the default prep time."""
        rows = await self.db.read(lambda conn: conn.execute("SELECT * FROM partners").fetchall())
        prep = {(r["slug"], r["city"]): r["average_prep_minutes"] for r in rows}
        return [
            {
                "slug": k.get("slug"),
                "city": k.get("city"),
                "averagePrepMinutes": prep.get((k.get("slug"), k.get("city")), DEFAULT_PREP_MINUTES),
            }
            for k in keys
        ]

    async def estimates(self, orders: list[tuple[str, str]]) -> list[int]:
        """Minutes until each (order id, delivery city) is at the door: 0 once delivered."""

        def query(conn: sqlite3.Connection) -> list[int]:
            zones = dict(conn.execute("SELECT city, ride_minutes FROM zones").fetchall())
            ids = [order_id for order_id, _city in orders]
            status = dict(
                conn.execute(
                    f"SELECT order_id, status FROM deliveries WHERE order_id IN ({_in(ids)})", ids
                ).fetchall()
            )
            minutes = []
            for order_id, city in orders:
                ride = zones.get(city, DEFAULT_RIDE_MINUTES)
                state = status.get(order_id)
                if state == "DELIVERED":
                    minutes.append(0)
                elif state in ("ASSIGNED", "PICKED_UP"):
                    minutes.append(ride)
                else:
                    minutes.append(ride + WAITING_FOR_AGENT_MINUTES)
            return minutes

        return await self.db.read(query)

    async def assign(self, order: dict[str, Any]) -> dict[str, Any]:
        """assignAgent: give an APPROVED order to a free agent in its delivery city."""
        order_id = str(order["id"])

        def write(tx: Tx) -> dict[str, Any]:
            if tx.conn.execute("SELECT 1 FROM deliveries WHERE order_id = ?", (order_id,)).fetchone():
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} already has an agent")
            found = assign_agent(tx, order_id, order["deliveryAddress"]["city"], order["restaurant"])
            if found is None:
                raise SubgraphError(NO_AGENT_AVAILABLE, f"no agent is free in {order['deliveryAddress']['city']} right now")
            return found

        return await self.outbox.write(write)

    async def complete(self, raw_id: str) -> dict[str, Any]:
        """completeDelivery: ASSIGNED or PICKED_UP -> DELIVERED ahead of the ride; frees the agent."""
        delivery_id = parse_id(raw_id, "delivery")

        def write(tx: Tx) -> dict[str, Any]:
            row = tx.conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None:
                raise SubgraphError(NOT_FOUND, f"delivery {raw_id} does not exist")
            if row["status"] not in ("ASSIGNED", "PICKED_UP"):
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"delivery {raw_id} is already {row['status']}")
            return deliver(tx, row)

        return await self.outbox.write(write)


def _fetch(conn: sqlite3.Connection, delivery_id: int) -> dict[str, Any]:
    return _delivery(conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone())


def assign_agent(tx: Tx, order_id: str, city: str, restaurant: dict[str, Any]) -> dict[str, Any] | None:
    """Give the order to a free agent in `city` and emit AgentAssigned; None (nothing written) when none is free."""
    agent = tx.conn.execute(
        "SELECT id, name FROM agents WHERE available = 1 AND city = ? ORDER BY id LIMIT 1", (city,)
    ).fetchone()
    if agent is None:
        return None
    tx.conn.execute("UPDATE agents SET available = 0 WHERE id = ?", (agent["id"],))
    cursor = tx.conn.execute(
        """INSERT INTO deliveries (order_id, agent_id, status, assigned_at, pickup_slug, pickup_city, pickup_name)
           VALUES (?, ?, 'ASSIGNED', ?, ?, ?, ?)""",
        (order_id, agent["id"], _now(), restaurant["slug"], restaurant["city"], restaurant["name"]),
    )
    assert cursor.lastrowid is not None
    found = _fetch(tx.conn, cursor.lastrowid)
    tx.emit(ev.AGENT_ASSIGNED, order_id, {"deliveryId": found["id"], "agentId": found["agentId"], "agentName": agent["name"]})
    return found


def pick_up(tx: Tx, row: sqlite3.Row) -> dict[str, Any]:
    """ASSIGNED -> PICKED_UP: the agent has the food; emits OrderPickedUp."""
    tx.conn.execute("UPDATE deliveries SET status = 'PICKED_UP', picked_up_at = ? WHERE id = ?", (_now(), row["id"]))
    tx.emit(ev.ORDER_PICKED_UP, row["order_id"], {"deliveryId": str(row["id"]), "agentId": str(row["agent_id"])})
    return _fetch(tx.conn, row["id"])


def deliver(tx: Tx, row: sqlite3.Row) -> dict[str, Any]:
    """-> DELIVERED: frees the agent and emits OrderDelivered."""
    now = _now()
    tx.conn.execute(
        "UPDATE deliveries SET status = 'DELIVERED', delivered_at = ?, picked_up_at = COALESCE(picked_up_at, ?) WHERE id = ?",
        (now, now, row["id"]),
    )
    tx.conn.execute("UPDATE agents SET available = 1 WHERE id = ?", (row["agent_id"],))
    tx.emit(ev.ORDER_DELIVERED, row["order_id"], {"deliveryId": str(row["id"]), "agentId": str(row["agent_id"])})
    return _fetch(tx.conn, row["id"])


def handlers() -> dict[str, dict[str, Handler]]:
    """What delivery does with the orders service's events."""

    def on_approved(tx: Tx, event: Event) -> None:
        order_id = event.order_id
        if tx.conn.execute("SELECT 1 FROM cancelled_orders WHERE order_id = ?", (order_id,)).fetchone():
            return
        if tx.conn.execute("SELECT 1 FROM deliveries WHERE order_id = ?", (order_id,)).fetchone():
            return  # assignAgent got there first
        city = str(event.data["deliveryCity"])
        if assign_agent(tx, order_id, city, event.data["restaurant"]) is None:
            tx.emit(ev.NO_AGENT_AVAILABLE, order_id, {"reason": f"no agent is free in {city}"})

    def on_cancelled(tx: Tx, event: Event) -> None:
        tx.conn.execute(
            "INSERT OR IGNORE INTO cancelled_orders (order_id, cancelled_at) VALUES (?, ?)", (event.order_id, _now())
        )
        row = tx.conn.execute(
            "SELECT * FROM deliveries WHERE order_id = ? AND status IN ('ASSIGNED', 'PICKED_UP')", (event.order_id,)
        ).fetchone()
        if row is not None:
            tx.conn.execute("UPDATE deliveries SET status = 'CANCELLED' WHERE id = ?", (row["id"],))
            tx.conn.execute("UPDATE agents SET available = 1 WHERE id = ?", (row["agent_id"],))
            tx.emit(ev.DELIVERY_CANCELLED, event.order_id, {"deliveryId": str(row["id"]), "reason": "order cancelled"})

    return {"orders": {ev.ORDER_APPROVED: on_approved, ev.ORDER_CANCELLED: on_cancelled}}


def _advance(status: str, column: str, delay_seconds: float, step: Any, name: str, batch: int = 100) -> Tick:
    # A timer moving deliveries in `status` on, `delay_seconds` after their `column` time.
    def tick(tx: Tx) -> float | None:
        if delay_seconds < 0:
            return None
        due = tx.conn.execute(
            f"SELECT * FROM deliveries WHERE status = ? AND {column} <= ? ORDER BY {column} LIMIT ?",
            (status, now_iso(-delay_seconds), batch),
        ).fetchall()
        for row in due:
            step(tx, row)
        if len(due) == batch:
            return 0.0
        oldest = tx.conn.execute(f"SELECT MIN({column}) FROM deliveries WHERE status = ?", (status,)).fetchone()[0]
        return None if oldest is None else seconds_until(oldest, delay_seconds)

    tick.__name__ = name
    return tick


def pickup_timer(delay_seconds: float) -> Tick:
    """The agent reaches the restaurant `delay_seconds` after assignment (never when negative)."""
    return _advance("ASSIGNED", "assigned_at", delay_seconds, pick_up, "pickup")


def ride_timer(ride_seconds: float) -> Tick:
    """The simulated ride: delivered `ride_seconds` after pickup (never when negative)."""
    return _advance("PICKED_UP", "picked_up_at", ride_seconds, deliver, "ride")
