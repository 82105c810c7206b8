"""The orders subgraph's SQLite tables, seed data and queries.

Values handed to resolvers are dicts keyed by GraphQL field name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any

from subgraphs.common import BAD_USER_INPUT, INVALID_STATUS_TRANSITION, NOT_FOUND, SubgraphError
from subgraphs.common.broker import Broker
from subgraphs.common.bus import Outbox, Tx
from subgraphs.common.bus.events import ORDER_APPROVED, ORDER_CANCELLED, ORDER_PLACED
from subgraphs.common.errors import parse_id
from subgraphs.orders.saga import CANCELLABLE, REJECTABLE, StatusChange, StatusFeed, change_status

_log = logging.getLogger("subgraphs.orders")

CURRENCY = "EUR"
ORDER_STATUS_TOPIC = "order-status"
MAX_PAGE = 100
MAX_QUANTITY = 50

_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE restaurants (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    city TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (slug, city)
);
CREATE TABLE menu_items (
    id INTEGER PRIMARY KEY,
    restaurant_id INTEGER NOT NULL REFERENCES restaurants (id),
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    restaurant_id INTEGER NOT NULL REFERENCES restaurants (id),
    status TEXT NOT NULL CHECK (
        status IN ('PLACED', 'PAID', 'APPROVED', 'ASSIGNED', 'PICKED_UP', 'DELIVERED', 'CANCELLED')),
    created_at TEXT NOT NULL,
    street TEXT NOT NULL,
    city TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    -- when the status last changed: the auto-approve timer counts from here
    status_changed_at TEXT NOT NULL
);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    position INTEGER NOT NULL,
    menu_item_id INTEGER NOT NULL REFERENCES menu_items (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_by_status_age ON orders (status, status_changed_at);
CREATE TABLE order_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    type TEXT NOT NULL,
    service TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX order_events_by_order ON order_events (order_id, seq);
CREATE INDEX orders_by_customer ON orders (customer_id, id);
"""

CUSTOMERS = [
    (1, "Ada Lovelace", "ada@example.com"),
    (2, "Grace Hopper", "grace@example.com"),
    (3, "Alan Turing", "alan@example.com"),
]
RESTAURANTS = [
    (1, "napoli", "Berlin", "Pizzeria Napoli"),
    (2, "sushi-go", "Hamburg", "Sushi Go"),
    (3, "curry-36", "Berlin", "Curry 36"),
]
MENU_ITEMS = [
    (1, 1, "Margherita", 850),
    (2, 1, "Diavola", 1050),
    (3, 1, "Tiramisu", 550),
    (4, 2, "Salmon Nigiri", 650),
    (5, 2, "Maki Box", 1200),
    (6, 3, "Currywurst", 450),
    (7, 3, "Fries", 300),
]
# (id, customer, restaurant, status, created_at, street, city, postal code, [(menu item, quantity)])
ORDERS = [
    (1, 1, 1, "APPROVED", "2026-11-01T12:00:00Z", "Unter den Linden 1", "Berlin", "10117", [(1, 2), (3, 1)]),
    (2, 2, 2, "PLACED", "2026-11-01T12:05:00Z", "Jungfernstieg 7", "Hamburg", "20354", [(5, 1), (4, 2)]),
    (3, 3, 3, "CANCELLED", "2026-11-01T12:10:00Z", "Torstrasse 3", "Berlin", "10119", [(6, 2), (7, 1)]),
    (4, 1, 3, "PLACED", "2026-11-01T12:15:00Z", "Unter den Linden 1", "Berlin", "10117", [(6, 1)]),
    (5, 2, 1, "APPROVED", "2026-11-01T12:20:00Z", "Kastanienallee 9", "Berlin", "10435", [(2, 1), (1, 1)]),
]

# The schema `setup` creates; an older file is moved aside (subgraphs/common/db.py).
SCHEMA_VERSION = 2
# The seeded orders' history: how each got to its seeded status.
_SEED_EVENTS = {"PLACED": [], "APPROVED": ["PaymentCaptured", "OrderApproved"], "CANCELLED": ["OrderCancelled"]}


def setup(conn: sqlite3.Connection) -> None:
    """Create the tables and the seed rows (called once, in a transaction)."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
    conn.executemany("INSERT INTO restaurants VALUES (?, ?, ?, ?)", RESTAURANTS)
    conn.executemany("INSERT INTO menu_items VALUES (?, ?, ?, ?)", MENU_ITEMS)
    prices = {item_id: price for item_id, _r, _n, price in MENU_ITEMS}
    for order_id, customer, restaurant, status, created, street, city, postal, items in ORDERS:
        total = sum(prices[item] * quantity for item, quantity in items)
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (order_id, customer, restaurant, status, created, street, city, postal, total, CURRENCY, created),
        )
        history = [("OrderPlaced", "orders", "PLACED")] + [
            (event, "payments" if event.startswith("Payment") else "orders", status)
            for event in _SEED_EVENTS[status]
        ]
        conn.executemany(
            "INSERT INTO order_events (order_id, type, service, at, status) VALUES (?, ?, ?, ?, ?)",
            [(order_id, event, service, created, after) for event, service, after in history],
        )
        conn.executemany(
            "INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
            [(order_id, pos, item, qty, prices[item]) for pos, (item, qty) in enumerate(items)],
        )


def money(cents: int, currency: str = CURRENCY) -> dict[str, Any]:
    """A `Money` value."""
    return {"cents": cents, "currency": currency}


def encode_cursor(order_id: int) -> str:
    """The opaque cursor of an order in `orders(...)`."""
    return base64.urlsafe_b64encode(f"order:{order_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The order id behind a cursor; BAD_USER_INPUT when it is not one of ours."""
    try:
        kind, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "order":
            raise ValueError(kind)
        return int(raw)
    except ValueError:
        raise SubgraphError(BAD_USER_INPUT, f"invalid cursor {cursor!r}") from None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


_ORDER_COLUMNS = """
    o.id, o.status, o.created_at, o.street, o.city, o.postal_code, o.total_cents, o.currency,
    c.id AS customer_id, c.name AS customer_name, c.email AS customer_email,
    r.id AS restaurant_id, r.slug, r.city AS restaurant_city, r.name AS restaurant_name
"""
_ORDER_FROM = """
    FROM orders o
    JOIN customers c ON c.id = o.customer_id
    JOIN restaurants r ON r.id = o.restaurant_id
"""


def _select_orders(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Orders with customer, restaurant and items, in two queries whatever the count."""
    rows = conn.execute(f"SELECT {_ORDER_COLUMNS} {_ORDER_FROM} {where}", params).fetchall()
    orders = [_order(row) for row in rows]
    if orders:
        by_id = {int(o["id"]): o for o in orders}
        items = conn.execute(
            f"""SELECT oi.order_id, oi.quantity, oi.unit_price_cents, m.id, m.name, m.price_cents
                FROM order_items oi JOIN menu_items m ON m.id = oi.menu_item_id
                WHERE oi.order_id IN ({_placeholders(len(by_id))}) ORDER BY oi.order_id, oi.position""",
            tuple(by_id),
        ).fetchall()
        for item in items:
            order = by_id[item["order_id"]]
            order["items"].append(
                {
                    "menuItem": {
                        "id": str(item["id"]),
                        "name": item["name"],
                        "price": money(item["price_cents"]),
                    },
                    "quantity": item["quantity"],
                    "subtotal": money(
                        item["unit_price_cents"] * item["quantity"], order["total"]["currency"]
                    ),
                }
            )
    return orders


def _order(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "createdAt": row["created_at"],
        "deliveryAddress": {"street": row["street"], "city": row["city"], "postalCode": row["postal_code"]},
        "total": money(row["total_cents"], row["currency"]),
        "customer": {
            "id": str(row["customer_id"]),
            "name": row["customer_name"],
            "email": row["customer_email"],
        },
        "restaurant": {
            "id": str(row["restaurant_id"]),
            "slug": row["slug"],
            "city": row["restaurant_city"],
            "name": row["restaurant_name"],
        },
        "items": [],
        # Legacy: orders never learns about payments; the payments subgraph overrides this field.
        "isPaid": False,
    }


def _customer(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": str(row["id"]), "name": row["name"], "email": row["email"]}


def _restaurant(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": str(row["id"]), "slug": row["slug"], "city": row["city"], "name": row["name"]}


def _get_order(conn: sqlite3.Connection, order_id: int) -> dict[str, Any]:
    found = _select_orders(conn, "WHERE o.id = ?", (order_id,))
    if not found:
        raise SubgraphError(NOT_FOUND, f"order {order_id} does not exist")
    return found[0]


class OrdersStore:
    """Every read and write the orders resolvers need; status changes go through `saga.change_status`."""

    def __init__(self, outbox: Outbox, feed: StatusFeed, events: Broker | None = None) -> None:
        self.outbox = outbox
        self.db = outbox.db
        self.feed = feed
        #: Where `orderStatusChanged` subscribers listen (StatusPublisher publishes each change there).
        self.events = events

    async def orders_by_ids(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """Orders in the order of `ids`; None for an id that does not exist."""
        wanted = [int(i) for i in ids if str(i).isdigit()]
        if not wanted:
            return [None] * len(ids)
        found = await self.db.read(
            lambda conn: _select_orders(conn, f"WHERE o.id IN ({_placeholders(len(wanted))})", tuple(wanted))
        )
        by_id = {o["id"]: o for o in found}
        return [by_id.get(str(i)) for i in ids]

    async def orders_page(self, first: int, after: str | None, status: str | None) -> dict[str, Any]:
        """One page of `orders(first, after, status)`, newest first."""
        if not 0 <= first <= MAX_PAGE:
            raise SubgraphError(BAD_USER_INPUT, f"first must be between 0 and {MAX_PAGE}, got {first}")
        before_id = decode_cursor(after) if after is not None else None

        def query(conn: sqlite3.Connection) -> dict[str, Any]:
            filters: list[str] = []
            params: list[Any] = []
            if status is not None:
                filters.append("o.status = ?")
                params.append(status)
            total = conn.execute(
                "SELECT COUNT(*) FROM orders o" + (f" WHERE {filters[0]}" if filters else ""), params
            ).fetchone()[0]
            if before_id is not None:
                filters.append("o.id < ?")
                params.append(before_id)
            where = f"WHERE {' AND '.join(filters)}" if filters else ""
            rows = _select_orders(conn, f"{where} ORDER BY o.id DESC LIMIT ?", (*params, first + 1))
            page = rows[:first]
            edges = [{"cursor": encode_cursor(int(o["id"])), "node": o} for o in page]
            return {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(rows) > first,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
                "totalCount": total,
            }

        return await self.db.read(query)

    async def customers_by_ids(self, ids: list[str]) -> list[dict[str, Any] | None]:
        """Customers in the order of `ids`; None for unknown ids."""
        rows = await self.db.read(lambda conn: conn.execute("SELECT * FROM customers").fetchall())
        by_id = {str(r["id"]): _customer(r) for r in rows}
        return [by_id.get(str(i)) for i in ids]

    async def restaurants(self) -> list[dict[str, Any]]:
        """All restaurants."""
        rows = await self.db.read(
            lambda conn: conn.execute("SELECT * FROM restaurants ORDER BY id").fetchall()
        )
        return [_restaurant(r) for r in rows]

    async def restaurants_by_keys(self, keys: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """Restaurants by either key, `{id}` or `{slug, city}`; None for unknown ones."""
        everything = await self.restaurants()
        by_id = {r["id"]: r for r in everything}
        by_slug = {(r["slug"], r["city"]): r for r in everything}
        found: list[dict[str, Any] | None] = []
        for key in keys:
            if "id" in key:
                found.append(by_id.get(str(key["id"])))
            else:
                found.append(by_slug.get((key.get("slug"), key.get("city"))))
        return found

    async def menu(self, restaurant_id: str) -> list[dict[str, Any]]:
        """A restaurant's menu."""
        rows = await self.db.read(
            lambda conn: conn.execute(
                "SELECT * FROM menu_items WHERE restaurant_id = ? ORDER BY id", (restaurant_id,)
            ).fetchall()
        )
        return [{"id": str(r["id"]), "name": r["name"], "price": money(r["price_cents"])} for r in rows]

    async def orders_of_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """A customer's orders, newest first."""
        return await self.db.read(
            lambda conn: _select_orders(conn, "WHERE o.customer_id = ? ORDER BY o.id DESC", (customer_id,))
        )

    async def place_order(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validate and store a new PLACED order; nothing is stored when validation fails."""
        customer_id = parse_id(data["customerId"], "customer")
        restaurant_id = parse_id(data["restaurantId"], "restaurant")
        items = data["items"]
        address = data["deliveryAddress"]
        if not items:
            raise SubgraphError(BAD_USER_INPUT, "an order needs at least one item")
        for field in ("street", "city", "postalCode"):
            if not str(address[field]).strip():
                raise SubgraphError(BAD_USER_INPUT, f"deliveryAddress.{field} must not be empty")

        payment = data.get("payment") or {}
        method = payment.get("method") or "CARD"
        card = payment.get("cardNumber")
        if card is not None and not (str(card).isdigit() and 12 <= len(str(card)) <= 19):
            raise SubgraphError(BAD_USER_INPUT, "payment.cardNumber must be 12 to 19 digits")

        def write(tx: Tx) -> dict[str, Any]:
            conn = tx.conn
            if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
                raise SubgraphError(NOT_FOUND, f"customer {data['customerId']} does not exist")
            if conn.execute("SELECT 1 FROM restaurants WHERE id = ?", (restaurant_id,)).fetchone() is None:
                raise SubgraphError(NOT_FOUND, f"restaurant {data['restaurantId']} does not exist")
            now = _now()
            cursor = conn.execute(
                """INSERT INTO orders (customer_id, restaurant_id, status, created_at, street, city,
                                       postal_code, total_cents, currency, status_changed_at)
                   VALUES (?, ?, 'PLACED', ?, ?, ?, ?, 0, ?, ?)""",
                (
                    customer_id,
                    restaurant_id,
                    now,
                    address["street"],
                    address["city"],
                    address["postalCode"],
                    CURRENCY,
                    now,
                ),
            )
            order_id = cursor.lastrowid
            assert order_id is not None
            total = 0
            # Items are checked as they are written; a bad one rolls back the order row too.
            for position, item in enumerate(items):
                quantity = item["quantity"]
                if not 1 <= quantity <= MAX_QUANTITY:
                    raise SubgraphError(
                        BAD_USER_INPUT, f"items[{position}].quantity must be between 1 and {MAX_QUANTITY}"
                    )
                menu_row = conn.execute(
                    "SELECT price_cents FROM menu_items WHERE id = ? AND restaurant_id = ?",
                    (str(item["menuItemId"]), restaurant_id),
                ).fetchone()
                if menu_row is None:
                    raise SubgraphError(
                        BAD_USER_INPUT,
                        f"items[{position}]: menu item {item['menuItemId']} is not on restaurant "
                        f"{data['restaurantId']}'s menu",
                    )
                conn.execute(
                    "INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
                    (order_id, position, str(item["menuItemId"]), quantity, menu_row["price_cents"]),
                )
                total += menu_row["price_cents"] * quantity
            conn.execute("UPDATE orders SET total_cents = ? WHERE id = ?", (total, order_id))
            change_status(
                tx,
                self.feed,
                str(order_id),
                "PLACED",
                event=ORDER_PLACED,
                at=now,
                extra={"payment": {"method": method, "cardNumber": card}},
            )
            return _get_order(conn, order_id)

        return await self.outbox.write(write)

    async def transition(self, raw_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
        """`approve`, `reject` or `cancel` an order, or fail with NOT_FOUND / INVALID_STATUS_TRANSITION."""
        order_id = parse_id(raw_id, "order")

        def write(tx: Tx) -> dict[str, Any]:
            row = tx.conn.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
            if row is None:
                raise SubgraphError(NOT_FOUND, f"order {raw_id} does not exist")
            status = row["status"]
            if action == "approve":
                if status != "PAID":
                    raise SubgraphError(
                        INVALID_STATUS_TRANSITION, f"cannot approve order {raw_id}: it is {status}, not PAID"
                    )
                change_status(tx, self.feed, str(order_id), "APPROVED", event=ORDER_APPROVED, detail="approved by the restaurant")
            else:
                allowed = REJECTABLE if action == "reject" else CANCELLABLE
                if status not in allowed:
                    raise SubgraphError(INVALID_STATUS_TRANSITION, f"cannot {action} order {raw_id}: it is {status}")
                detail = f"rejected by the restaurant: {reason}" if action == "reject" else "cancelled by the customer"
                if action == "reject" and not reason:
                    detail = "rejected by the restaurant"
                change_status(tx, self.feed, str(order_id), "CANCELLED", event=ORDER_CANCELLED, detail=detail)
            return _get_order(tx.conn, order_id)

        return await self.outbox.write(write)

    async def events_of(self, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The saga history of each order, oldest first, by order id."""
        wanted = [int(i) for i in order_ids if str(i).isdigit()]
        if not wanted:
            return {}
        rows = await self.db.read(
            lambda conn: conn.execute(
                f"""SELECT order_id, type, service, at, status, detail FROM order_events
                    WHERE order_id IN ({_placeholders(len(wanted))}) ORDER BY order_id, seq""",
                tuple(wanted),
            ).fetchall()
        )
        history: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            history.setdefault(str(row["order_id"]), []).append(
                {key: row[key] for key in ("type", "service", "at", "status", "detail")}
            )
        return history


class StatusPublisher:
    """Forwards each committed status change (a `StatusFeed` listener) to the `orderStatusChanged`
    subscribers: the order as it was right after that change, in commit order."""

    def __init__(self, store: OrdersStore, events: Broker) -> None:
        self._store = store
        self._events = events
        self._last: asyncio.Task[None] | None = None

    def __call__(self, change: StatusChange) -> None:
        # Chained tasks: each publishes after the one before it, so subscribers see changes in order.
        self._last = asyncio.get_running_loop().create_task(self._publish(change, self._last))

    async def _publish(self, change: StatusChange, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            order = (await self._store.orders_by_ids([change.order_id]))[0]
            if order is not None:
                # A later change may have committed meanwhile: publish the status of this one.
                order["status"] = change.status
                # Every order's topic, and this order's own (what `orderStatusChanged(id:)` reads).
                await self._events.publish(ORDER_STATUS_TOPIC, order)
                await self._events.publish(f"{ORDER_STATUS_TOPIC}:{order['id']}", order)
        except Exception:  # noqa: BLE001 - the change is stored; only the notification is lost
            _log.exception("could not publish the status change of order %s", change.order_id)
