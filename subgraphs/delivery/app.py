"""The delivery subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, OrdersPeer, create_app, make_broker
from subgraphs.delivery.resolvers import build_schema
from subgraphs.delivery.store import DeliveryStore, setup


def create_delivery_app(db_path: str) -> Starlette:
    """The delivery subgraph over the SQLite file at `db_path`; reads orders from ORDERS_URL."""
    db = Database(db_path, setup)
    orders = OrdersPeer()
    events = make_broker("delivery")
    return create_app(
        "delivery", build_schema(DeliveryStore(db), orders, events), db, on_shutdown=[orders.close, events.close]
    )
