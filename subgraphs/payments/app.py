"""The payments subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, OrdersPeer, create_app
from subgraphs.payments.resolvers import build_schema
from subgraphs.payments.store import PaymentsStore, setup


def create_payments_app(db_path: str) -> Starlette:
    """The payments subgraph over the SQLite file at `db_path`; reads orders from ORDERS_URL."""
    db = Database(db_path, setup)
    orders = OrdersPeer()
    return create_app("payments", build_schema(PaymentsStore(db), orders), db, on_shutdown=[orders.close])
