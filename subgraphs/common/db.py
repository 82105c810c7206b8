"""SQLite behind one dedicated thread, so resolvers never block the event loop.

All statements run on that thread in submission order; `write` wraps its function in
`BEGIN IMMEDIATE ... COMMIT` and rolls back on any exception, so a failed mutation leaves
the database exactly as it was.

A file written by an older schema version (a `var/` left from an earlier checkout) is moved
aside to `<name>.db.v<N>.bak` and a fresh one is seeded: the demo data has no migrations.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

Setup = Callable[[sqlite3.Connection], None]

_SCHEMA_VERSION = 1

_log = logging.getLogger("subgraphs.db")


class Database:
    """One SQLite file, created and seeded by `setup` the first time it is opened.

    `ensure` runs at every open, in a transaction, for tables created with IF NOT EXISTS
    (the event bus's outbox); `version` is the schema version `setup` creates.
    """

    def __init__(
        self, path: str | Path, setup: Setup, *, version: int = _SCHEMA_VERSION, ensure: Setup | None = None
    ) -> None:
        self.path = Path(path)
        self._setup = setup
        self._version = version
        self._ensure = ensure
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{self.path.stem}")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        """Open the file, creating and seeding it when it is new."""
        await self._submit(self._open)

    async def close(self) -> None:
        """Close the connection and stop the thread."""
        await self._submit(self._close)
        self._executor.shutdown(wait=True)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the database thread (no transaction needed for a read)."""
        return await self._submit(lambda: fn(self._connection()))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` in one transaction: all of it is committed, or none of it."""
        return await self._submit(lambda: self._transaction(fn))

    async def _submit(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"database {self.path} is not open")
        return self._conn

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, self._version):
            conn.close()
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            _log.warning("%s has schema version %s, not %s: moved to %s", self.path, version, self._version, backup)
            self.path.replace(backup)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            conn = self._connect()
            version = 0
        if version == 0:
            self._transaction(self._create)
        if self._ensure is not None:
            self._transaction(self._ensure)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, see _transaction.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        self._conn = conn
        return conn

    def _create(self, conn: sqlite3.Connection) -> None:
        self._setup(conn)
        conn.execute(f"PRAGMA user_version = {self._version}")

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
