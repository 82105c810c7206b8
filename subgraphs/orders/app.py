"""The orders subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, create_app, make_broker
from subgraphs.orders.resolvers import build_schema
from subgraphs.orders.store import OrdersStore, setup


def create_orders_app(db_path: str) -> Starlette:
    """The orders subgraph over the SQLite file at `db_path`."""
    db = Database(db_path, setup)
    events = make_broker("orders")
    return create_app("orders", build_schema(OrdersStore(db, events)), db, on_shutdown=[events.close])
