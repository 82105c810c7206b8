"""The payments subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, OrdersPeer, create_app
from subgraphs.common.bus import EventBus, setup_tables
from subgraphs.payments.resolvers import build_schema
from subgraphs.payments.store import SCHEMA_VERSION, DeclinePolicy, PaymentsStore, handlers, setup


def create_payments_app(db_path: str) -> Starlette:
    """The payments subgraph over the SQLite file at `db_path`; reads orders from ORDERS_URL, events from REDIS_URL."""
    db = Database(db_path, setup, version=SCHEMA_VERSION, ensure=setup_tables)
    policy = DeclinePolicy.from_env()
    bus = EventBus("payments", db, handlers=handlers(policy))
    orders = OrdersPeer()
    store = PaymentsStore(bus.outbox, policy)
    return create_app("payments", build_schema(store, orders), db, on_shutdown=[orders.close], bus=bus)
