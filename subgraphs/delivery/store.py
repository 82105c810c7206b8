"""The delivery subgraph's SQLite tables, seed data and queries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from subgraphs.common import INVALID_STATUS_TRANSITION, NOT_FOUND, Database, SubgraphError
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
    status TEXT NOT NULL CHECK (status IN ('ASSIGNED', 'DELIVERED')),
    assigned_at TEXT NOT NULL,
    delivered_at TEXT,
    pickup_slug TEXT NOT NULL,
    pickup_city TEXT NOT NULL,
    pickup_name TEXT NOT NULL
);
"""

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
    conn.executemany("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", DELIVERIES)


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
        "deliveredAt": row["delivered_at"],
        # name comes from our copy: that is what @provides(fields: "name") promises.
        "pickup": {"slug": row["pickup_slug"], "city": row["pickup_city"], "name": row["pickup_name"]},
    }


def _in(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


class DeliveryStore:
    """Every read and write the delivery resolvers need."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
                elif state == "ASSIGNED":
                    minutes.append(ride)
                else:
                    minutes.append(ride + WAITING_FOR_AGENT_MINUTES)
            return minutes

        return await self.db.read(query)

    async def assign(self, order: dict[str, Any]) -> dict[str, Any]:
        """Give an order to a free agent, one in the delivery city if there is one."""
        order_id = str(order["id"])
        city = order["deliveryAddress"]["city"]
        restaurant = order["restaurant"]

        def write(conn: sqlite3.Connection) -> dict[str, Any]:
            if conn.execute("SELECT 1 FROM deliveries WHERE order_id = ?", (order_id,)).fetchone():
                raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {order_id} already has an agent")
            agent = conn.execute(
                "SELECT id FROM agents WHERE available = 1 ORDER BY city = ? DESC, id LIMIT 1", (city,)
            ).fetchone()
            if agent is None:
                raise SubgraphError(NO_AGENT_AVAILABLE, "no agent is free right now")
            conn.execute("UPDATE agents SET available = 0 WHERE id = ?", (agent["id"],))
            cursor = conn.execute(
                """INSERT INTO deliveries (order_id, agent_id, status, assigned_at, pickup_slug, pickup_city, pickup_name)
                   VALUES (?, ?, 'ASSIGNED', ?, ?, ?, ?)""",
                (order_id, agent["id"], _now(), restaurant["slug"], restaurant["city"], restaurant["name"]),
            )
            return _delivery(
                conn.execute("SELECT * FROM deliveries WHERE id = ?", (cursor.lastrowid,)).fetchone()
            )

        return await self.db.write(write)

    async def complete(self, raw_id: str) -> dict[str, Any]:
        """ASSIGNED -> DELIVERED; frees the agent."""
        delivery_id = parse_id(raw_id, "delivery")

        def write(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None:
                raise SubgraphError(NOT_FOUND, f"delivery {raw_id} does not exist")
            if row["status"] != "ASSIGNED":
                raise SubgraphError(
                    INVALID_STATUS_TRANSITION, f"delivery {raw_id} is already {row['status']}"
                )
            conn.execute(
                "UPDATE deliveries SET status = 'DELIVERED', delivered_at = ? WHERE id = ?",
                (_now(), delivery_id),
            )
            conn.execute("UPDATE agents SET available = 1 WHERE id = ?", (row["agent_id"],))
            return _delivery(conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone())

        return await self.db.write(write)
