"""The delivery subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, OrdersPeer, create_app, make_broker
from subgraphs.common.bus import EventBus, seconds_from_env, setup_tables
from subgraphs.delivery.resolvers import build_schema
from subgraphs.delivery.store import SCHEMA_VERSION, DeliveryStore, handlers, pickup_timer, ride_timer, setup

#: Default seconds from assignment to pickup (env SAGA_PICKUP_SECONDS) and of the ride (env SAGA_RIDE_SECONDS).
PICKUP_SECONDS = 2.0
RIDE_SECONDS = 5.0


def create_delivery_app(db_path: str) -> Starlette:
    """The delivery subgraph over the SQLite file at `db_path`; reads orders from ORDERS_URL, events from REDIS_URL."""
    db = Database(db_path, setup, version=SCHEMA_VERSION, ensure=setup_tables)
    ticks = [
        pickup_timer(seconds_from_env("SAGA_PICKUP_SECONDS", PICKUP_SECONDS)),
        ride_timer(seconds_from_env("SAGA_RIDE_SECONDS", RIDE_SECONDS)),
    ]
    bus = EventBus("delivery", db, handlers=handlers(), ticks=ticks)
    orders = OrdersPeer()
    events = make_broker("delivery")
    store = DeliveryStore(bus.outbox)
    return create_app(
        "delivery", build_schema(store, orders, events), db, on_shutdown=[orders.close, events.close], bus=bus
    )
