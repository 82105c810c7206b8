"""The orders subgraph's ASGI app."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.common import Database, create_app, make_broker
from subgraphs.common.bus import EventBus, seconds_from_env, setup_tables
from subgraphs.orders.resolvers import build_schema
from subgraphs.orders.saga import StatusFeed, auto_approve, handlers
from subgraphs.orders.store import SCHEMA_VERSION, OrdersStore, StatusPublisher, setup

#: Default seconds between PaymentCaptured and the automatic OrderApproved (env SAGA_AUTO_APPROVE_SECONDS).
AUTO_APPROVE_SECONDS = 3.0


def create_orders_app(db_path: str, feed: StatusFeed | None = None) -> Starlette:
    """The orders subgraph over the SQLite file at `db_path`, in the saga through REDIS_URL.

    Every status change reaches `feed` (saga.StatusFeed) after it commits, and through it the
    `orderStatusChanged` subscribers (StatusPublisher); pass a feed to listen too.
    """
    db = Database(db_path, setup, version=SCHEMA_VERSION, ensure=setup_tables)
    feed = feed or StatusFeed()
    delay = seconds_from_env("SAGA_AUTO_APPROVE_SECONDS", AUTO_APPROVE_SECONDS)
    bus = EventBus("orders", db, handlers=handlers(feed), ticks=[auto_approve(feed, delay)])
    events = make_broker("orders")
    store = OrdersStore(bus.outbox, feed, events)
    feed.add_listener(StatusPublisher(store, events))
    app = create_app("orders", build_schema(store), db, on_shutdown=[events.close], bus=bus)
    app.state.status_feed = feed
    return app
