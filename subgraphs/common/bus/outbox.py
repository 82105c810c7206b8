"""The transactional outbox: a state change and the events it causes commit in one SQLite transaction.

Services write through `Outbox.write(fn)`: `fn` gets a `Tx` whose `emit()` inserts the event
into the `outbox` table beside the change itself. Nothing reaches Redis inside the transaction;
the `Relay` (relay.py) publishes committed rows afterwards and marks them sent, so a crash or a
Redis outage leaves events waiting in the table, never lost and never invented by a rollback.

Consumers use the same table set: `applied_events` holds the ids of events a handler has
applied, written in the handler's own transaction, which is what makes redelivery harmless.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from subgraphs.common.bus.events import Event, now_iso
from subgraphs.common.db import Database

T = TypeVar("T")

# IF NOT EXISTS: created at every open, in databases of any age.
SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    order_id TEXT NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE TABLE IF NOT EXISTS applied_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
"""


def setup_tables(conn: sqlite3.Connection) -> None:
    """Create the outbox and applied-events tables when they are missing."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


@dataclass
class Tx:
    """One open write transaction of a service: its connection, and what to do once it commits."""

    conn: sqlite3.Connection
    service: str
    emitted: list[Event] = field(default_factory=list)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def emit(self, type_: str, order_id: str, data: dict[str, Any] | None = None) -> Event:
        """Write an event into the outbox; it is published only if this transaction commits."""
        event = Event(type=type_, order_id=str(order_id), source=self.service, data=data or {})
        self.conn.execute(
            "INSERT INTO outbox (event_id, type, order_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (event.id, event.type, event.order_id, event.to_json(), now_iso()),
        )
        self.emitted.append(event)
        return event

    def savepoint(self) -> tuple[int, int]:
        """Open a savepoint (one handler of a batch); returns the mark `rollback_to` needs."""
        self.conn.execute("SAVEPOINT handler")
        return len(self.emitted), len(self._after_commit)

    def release(self) -> None:
        """Keep what was done since the savepoint."""
        self.conn.execute("RELEASE handler")

    def rollback_to(self, mark: tuple[int, int]) -> None:
        """Undo everything since the savepoint: rows, emitted events, after-commit callbacks."""
        self.conn.execute("ROLLBACK TO handler")
        self.conn.execute("RELEASE handler")
        del self.emitted[mark[0] :]
        del self._after_commit[mark[1] :]

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the event loop once the transaction has committed (never on rollback)."""
        self._after_commit.append(callback)

    def already_applied(self, event: Event) -> bool:
        """True when this service applied `event` before; otherwise records it as applied now."""
        if self.conn.execute("SELECT 1 FROM applied_events WHERE event_id = ?", (event.id,)).fetchone():
            return True
        self.conn.execute(
            "INSERT INTO applied_events (event_id, type, source, applied_at) VALUES (?, ?, ?, ?)",
            (event.id, event.type, event.source, now_iso()),
        )
        return False


#: Applies one event inside the consumer's transaction; raising rolls back its savepoint.
Handler = Callable[[Tx, Event], None]


class Outbox:
    """Writes of one service that may emit events; wakes the relay and timers after each commit."""

    def __init__(self, db: Database, service: str) -> None:
        self.db = db
        self.service = service
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every commit that went through `write` (the relay and timers wait on it)."""
        self._listeners.append(listener)

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn(tx)` in one transaction; afterwards run its after-commit callbacks and wake listeners."""
        txs: list[Tx] = []

        def run(conn: sqlite3.Connection) -> T:
            tx = Tx(conn, self.service)
            txs.append(tx)
            return fn(tx)

        result = await self.db.write(run)
        tx = txs[0]
        for callback in tx._after_commit:
            callback()
        if tx.emitted:
            for listener in self._listeners:
                listener()
        return result

    async def pending(self) -> int:
        """How many events wait to be published."""
        row = await self.db.read(lambda conn: conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone())
        return int(row[0])
