"""The saga with real processes: a redis-server with AOF (so it can be killed and restarted
without losing streams) and the three subgraphs wired to it, with every delay set to 0.

`saga_stack()` starts a stack on its own stream prefix, so tests can share one Redis; the
saga's timings and the bus's patience come from `FAST` unless a test overrides them.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServiceProcess, _redis_ping, _wait_until, find_free_port, start_subgraph_process

FAST = {
    "SAGA_AUTO_APPROVE_SECONDS": "0",
    "SAGA_PICKUP_SECONDS": "0",
    "SAGA_RIDE_SECONDS": "0",
    "EVENTS_CLAIM_IDLE_MS": "500",
    "EVENTS_MAX_DELIVERIES": "3",
    "EVENTS_BLOCK_MS": "200",
    "EVENTS_TIMER_POLL_MS": "100",
}
FINAL = {"DELIVERED", "CANCELLED"}

PLACE = """
mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total { cents } } }
"""
ORDER = """
query ($id: ID!) { order(id: $id) { id status total { cents } events { type service at status detail } } }
"""


def start_redis(workdir: Path, port: int | None = None) -> ServiceProcess:
    """redis-server on loopback with an append-only file in `workdir` (restart it on the same dir to recover)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test` (it installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or find_free_port()
    log_path = workdir / f"redis-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--dir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proc = ServiceProcess(name="redis", port=port, process=process, log_path=log_path)
    _wait_until(lambda: _redis_ping("127.0.0.1", port), proc)
    return proc


@dataclass
class SagaStack:
    """Three subgraphs on one Redis; `restart(name)` brings one back on its port and database."""

    procs: dict[str, ServiceProcess]
    env: dict[str, str]
    workdir: Path

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.procs[name]

    def start(self, name: str, port: int | None = None, db_path: Path | None = None) -> ServiceProcess:
        orders_url = self.procs["orders"].url if name != "orders" else None
        proc = start_subgraph_process(
            name, self.workdir, orders_url=orders_url, env=self.env, port=port, db_path=db_path
        )
        self.procs[name] = proc
        return proc

    def restart(self, name: str) -> ServiceProcess:
        old = self.procs[name]
        old.stop()
        return self.start(name, port=old.port, db_path=old.db_path)

    def start_all(self) -> None:
        """orders, payments and delivery, started side by side (payments and delivery reach orders only later)."""
        port = find_free_port()
        with ThreadPoolExecutor(3) as pool:
            futures = {
                name: pool.submit(
                    start_subgraph_process, name, self.workdir,
                    orders_url=f"http://127.0.0.1:{port}/graphql" if name != "orders" else None,
                    env=self.env, port=port if name == "orders" else None,
                )
                for name in ("orders", "payments", "delivery")
            }
            errors = []
            for name, future in futures.items():
                try:
                    self.procs[name] = future.result()
                except Exception as exc:  # noqa: BLE001 - stop the others, then fail
                    errors.append(exc)
                    self.procs.pop(name, None)
        if errors:
            self.stop()
            raise errors[0]

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def db(self, name: str) -> sqlite3.Connection:
        """A read connection to a service's SQLite file."""
        path = self.procs[name].db_path
        assert path is not None
        conn = sqlite3.connect(path, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def place(self, *, city: str = "Berlin", card: str | None = None, restaurant: str = "1",
              items: list[dict[str, Any]] | None = None, url: str | None = None) -> dict[str, Any]:
        """placeOrder for customer 1 (a Margherita at Pizzeria Napoli unless told otherwise)."""
        payment = {"method": "CARD", "cardNumber": card} if card else None
        order_input = {
            "customerId": "1",
            "restaurantId": restaurant,
            "items": items or [{"menuItemId": "1", "quantity": 1}],
            "deliveryAddress": {"street": "Torstrasse 1", "city": city, "postalCode": "10119"},
            "payment": payment,
        }
        body = httpx.post(url or self.procs["orders"].url, json={"query": PLACE, "variables": {"input": order_input}},
                          timeout=30).json()
        assert "errors" not in body, body
        placed: dict[str, Any] = body["data"]["placeOrder"]
        return placed

    def order(self, order_id: str) -> dict[str, Any]:
        body = self.procs["orders"].query(ORDER, {"id": order_id})
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["order"]
        return found

    def wait_final(self, order_ids: list[str], timeout: float = 30.0) -> dict[str, str]:
        """Wait until every order is DELIVERED or CANCELLED (read from the orders database); return their statuses."""
        deadline = time.monotonic() + timeout
        wanted = [int(i) for i in order_ids]
        while True:
            with self.db("orders") as conn:
                marks = ", ".join("?" * len(wanted))
                rows = conn.execute(f"SELECT id, status FROM orders WHERE id IN ({marks})", wanted).fetchall()
            statuses = {str(r["id"]): r["status"] for r in rows}
            if all(statuses.get(str(i)) in FINAL for i in wanted):
                return statuses
            if time.monotonic() > deadline:
                stuck = {k: v for k, v in statuses.items() if v not in FINAL}
                raise AssertionError(f"{len(stuck)} orders not final after {timeout}s, e.g. {list(stuck.items())[:5]}")
            time.sleep(0.1)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s (last: {value!r})")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def saga_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One AOF redis-server shared by the saga tests that do not kill it."""
    proc = start_redis(tmp_path_factory.mktemp("saga-redis"))
    yield proc
    proc.stop()


def make_stack(workdir: Path, redis: ServiceProcess, **overrides: str) -> SagaStack:
    """The three subgraphs on `redis` with FAST timings (plus `overrides`) on a fresh stream prefix."""
    env = {**FAST, "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0", "EVENTS_PREFIX": f"t{uuid.uuid4().hex[:8]}",
           **overrides}
    stack = SagaStack({}, env, workdir)
    stack.start_all()
    return stack


@pytest.fixture(scope="package")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, saga_redis: ServiceProcess) -> Iterator[SagaStack]:
    """FAST timings, totals above 50.00 EUR declined; shared by the tests that need nothing special
    (each uses its own orders; one restarts payments, which leaves it running)."""
    stack = make_stack(tmp_path_factory.mktemp("saga-shared"), saga_redis, SAGA_DECLINE_ABOVE_CENTS="5000")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def saga_stack(
    tmp_path_factory: pytest.TempPathFactory, saga_redis: ServiceProcess
) -> Iterator[Callable[..., SagaStack]]:
    """Factory: `saga_stack(redis=None, **env)`; the stacks live until the test module ends."""
    stacks: list[SagaStack] = []

    def start(redis: ServiceProcess | None = None, **overrides: str) -> SagaStack:
        stack = make_stack(tmp_path_factory.mktemp("saga-stack"), redis or saga_redis, **overrides)
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        stack.stop()
