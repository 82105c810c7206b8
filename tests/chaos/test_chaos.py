"""Chaos under load: real subgraphs and a real `fedgate serve` on loopback, restarted, killed,
reconfigured and drained while concurrent clients keep querying through the gateway.

Every answer is classified: `complete` (200 and exactly the answer of a healthy graph), `partial`
(200, data, and only SUBGRAPH_UNAVAILABLE errors, with a path, from the subgraph that is down) or
`failed` (anything else, including transport errors and 5xx). Each scenario prints its counts.
Bounded: a few seconds per scenario, every process stopped by pid.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The root conftest's process helpers (plain functions; `from conftest import` could pick another folder's).
_spec = importlib.util.spec_from_file_location("_fedgate_root_conftest", ROOT / "tests" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _helpers
_spec.loader.exec_module(_helpers)

WORKERS = 6
OPERATIONS: dict[str, tuple[str, frozenset[str]]] = {
    "orders": ('{ order(id: "2") { id status total { cents currency } restaurant { name } } }', frozenset({"orders"})),
    "delivery": ("{ agents { name } }", frozenset({"delivery"})),
    "payments": ('{ order(id: "1") { id status payment { id status } } }', frozenset({"orders", "payments"})),
    "all": (
        '{ order(id: "1") { id status isPaid refundDue payment { status } delivery { status agent { name } } } }',
        frozenset({"orders", "payments", "delivery"}),
    ),
}
CONFIG = """
lifecycle:
  watch_interval: 0.2
  shutdown_delay: 0.5
  drain_timeout: 10
"""


@dataclass
class Stack:
    workdir: Path
    subgraphs: dict[str, Any]
    gateway: Any
    supergraph_path: Path
    supergraph_sdl: str
    expected: dict[str, Any] = field(default_factory=dict)
    downtime: dict[str, float] = field(default_factory=dict)  # seconds from the signal to answering again

    def restart(self, name: str, sig: int = signal.SIGTERM, down_for: float = 0.0) -> float:
        """Stop subgraph `name` with `sig`, wait `down_for`, start it again on the same port; the time it is back."""
        old = self.subgraphs[name]
        down = time.monotonic()
        os.kill(old.pid, sig)
        old.process.wait(10)
        time.sleep(down_for)
        orders_url = None if name == "orders" else self.subgraphs["orders"].url
        self.subgraphs[name] = _helpers.start_subgraph_process(
            name, self.workdir, port=old.port, db_path=old.db_path, orders_url=orders_url
        )
        back = time.monotonic()
        self.downtime[name] = round(back - down, 2)
        return back

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.gateway.base_url}/ready", timeout=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("chaos")
    subgraphs = _helpers.start_subgraph_stack(workdir)
    gateway = None
    try:
        sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
        for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
            sdl = sdl.replace(f"http://127.0.0.1:{default_port}/", f"{subgraphs[name].base_url}/")
        supergraph_path = workdir / "supergraph.graphql"
        supergraph_path.write_text(sdl)
        config_path = workdir / "fedgate.yaml"
        config_path.write_text(CONFIG)
        port = _helpers.find_free_port()
        fedgate = str(Path(sys.executable).parent / "fedgate")
        argv = [fedgate, "serve", "--supergraph", str(supergraph_path), "--config", str(config_path), "--port", str(port)]
        gateway = _helpers.start_service_process("gateway", argv, port, workdir, health_path="/ready")
        stack = Stack(workdir, subgraphs, gateway, supergraph_path, sdl)
        for op, (query, _) in OPERATIONS.items():
            body = httpx.post(gateway.url, json={"query": query}, timeout=10).json()
            assert "errors" not in body, body
            stack.expected[op] = body
        yield stack
    finally:
        if gateway is not None:
            gateway.stop()
        for proc in reversed(list(subgraphs.values())):
            proc.stop()


@dataclass
class Result:
    op: str
    started: float
    ended: float
    outcome: str  # complete | partial | failed
    detail: str = ""


class Load:
    """`WORKERS` clients sending the operations round-robin until stopped."""

    def __init__(self, stack: Stack, down: frozenset[str] = frozenset()) -> None:
        self.stack = stack
        self.down = down  # subgraphs whose SUBGRAPH_UNAVAILABLE errors make a `partial`, not a `failed`
        self.results: list[Result] = []
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Load:
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=WORKERS * 2))
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(WORKERS)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.gather(*self._tasks)
        await self.client.aclose()

    async def _worker(self, index: int) -> None:
        ops = list(OPERATIONS)
        i = index
        while not self.stop.is_set():
            op = ops[i % len(ops)]
            i += 1
            started = time.monotonic()
            try:
                response = await self.client.post(self.stack.gateway.url, json={"query": OPERATIONS[op][0]})
                outcome, detail = self.classify(op, response.status_code, response.json())
            except Exception as exc:  # noqa: BLE001 - every failure is counted, never raised
                outcome, detail = "failed", f"{type(exc).__name__}: {exc}"
            self.results.append(Result(op, started, time.monotonic(), outcome, detail))

    def classify(self, op: str, status: int, body: dict[str, Any]) -> tuple[str, str]:
        if status == 200 and body == self.stack.expected[op]:
            return "complete", ""
        errors = body.get("errors") or []
        if (
            status == 200
            and body.get("data") is not None
            and errors
            and all(
                e.get("path")
                and e.get("extensions", {}).get("code") == "SUBGRAPH_UNAVAILABLE"
                and e["extensions"].get("serviceName") in self.down
                for e in errors
            )
        ):
            return "partial", ""
        return "failed", f"{status}: {str(body)[:300]}"

    def counts(self, results: list[Result] | None = None) -> dict[str, int]:
        results = self.results if results is None else results
        c = Counter(r.outcome for r in results)
        return {"sent": len(results), "complete": c["complete"], "partial": c["partial"], "failed": c["failed"]}

    def failures(self) -> list[str]:
        return [f"{r.op}: {r.detail}" for r in self.results if r.outcome == "failed"][:5]


def report(scenario: str, load: Load, extra: str = "") -> None:
    counts = load.counts()
    slowest = max((r.ended - r.started for r in load.results), default=0.0)
    print(f"\n[chaos] {scenario}: sent={counts['sent']} failed={counts['failed']} partial={counts['partial']}"
          f" complete={counts['complete']} slowest={slowest:.2f}s{' ' + extra if extra else ''}")


async def test_each_subgraph_restarted_in_turn_loses_no_query(stack: Stack):
    async with Load(stack) as load:
        await asyncio.sleep(0.5)
        for name in ("orders", "payments", "delivery"):
            await asyncio.to_thread(stack.restart, name)
            await asyncio.sleep(0.3)
    counts = load.counts()
    report("rolling restart (SIGTERM, same port)", load, f"| port closed for {stack.downtime}")
    assert counts["failed"] == 0, load.failures()
    assert counts["partial"] == 0
    assert counts["sent"] > 0


async def test_killed_subgraph_gives_partial_answers_then_full_ones_again(stack: Stack):
    async with Load(stack, down=frozenset({"payments"})) as load:
        await asyncio.sleep(0.3)
        back = await asyncio.to_thread(stack.restart, "payments", signal.SIGKILL, 7.0)
        await asyncio.sleep(2.5)
    needs = {op for op, (_, subs) in OPERATIONS.items() if "payments" in subs}
    independent = [r for r in load.results if r.op not in needs]
    dependent = [r for r in load.results if r.op in needs]
    recovered = [r for r in dependent if r.started >= back + 2.0]
    first_full = min((r.ended for r in dependent if r.started >= back and r.outcome == "complete"), default=None)
    report("payments killed 7 s", load,
           f"| not needing payments: {load.counts(independent)} | needing it: {load.counts(dependent)}"
           f" | first full answer {first_full - back:.2f} s after it was back" if first_full else "")
    assert load.counts()["failed"] == 0, load.failures()
    assert load.counts(independent)["complete"] == len(independent) > 0
    assert load.counts(dependent)["partial"] > 0  # it was down, and answers said so
    assert recovered and all(r.outcome == "complete" for r in recovered)
    assert set(stack.ready().json()["circuits"].values()) == {"closed"}


async def test_supergraph_replaced_by_a_valid_then_a_broken_one(stack: Stack):
    before = stack.ready().json()["supergraph"]

    def replace(text: str) -> None:
        tmp = stack.supergraph_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, stack.supergraph_path)

    async def until(pred: Any) -> dict[str, Any]:
        for _ in range(100):
            state = (await asyncio.to_thread(stack.ready)).json()["supergraph"]
            if pred(state):
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"gateway did not react: {state}")

    async with Load(stack) as load:
        await asyncio.sleep(0.3)
        replace(stack.supergraph_sdl + "\n# v2: same graph, new file\n")
        await until(lambda s: s["reloads"] == before["reloads"] + 1)
        await asyncio.sleep(0.5)
        replace("schema @link(url: \"https://specs.apollo.dev/link/v1.0\") { query: Query }\ntype Query {\n")
        refused = await until(lambda s: s["refused"] == before["refused"] + 1)
        await asyncio.sleep(0.5)
    counts = load.counts()
    report("supergraph replaced (valid, then broken)", load, f"| reload state {refused}")
    assert counts["failed"] == 0 and counts["partial"] == 0, load.failures()
    assert refused["last_error"] and "reload refused" in stack.gateway.log()
    assert stack.ready().status_code == 200


async def test_sigterm_drains_every_accepted_request(stack: Stack):
    # delivery is paused, so requests that need it are still in flight when the listener closes.
    delivery = stack.subgraphs["delivery"]
    gateway = stack.gateway
    try:
        async with Load(stack) as load:
            await asyncio.sleep(0.5)
            os.kill(delivery.pid, signal.SIGSTOP)
            await asyncio.sleep(0.1)
            os.kill(gateway.pid, signal.SIGTERM)
            ready_after_sigterm = await asyncio.to_thread(stack.ready)
            health_after_sigterm = await asyncio.to_thread(httpx.get, f"{gateway.base_url}/health")
            load.stop.set()  # what a load balancer does once /ready says 503
            await asyncio.sleep(1.0)  # past shutdown_delay: the listener is closed now
            with pytest.raises(httpx.ConnectError):
                await asyncio.to_thread(httpx.get, f"{gateway.base_url}/health")
            in_flight = sum(1 for t in load._tasks if not t.done())
            os.kill(delivery.pid, signal.SIGCONT)
    finally:
        os.kill(delivery.pid, signal.SIGCONT)
    exit_code = await asyncio.to_thread(gateway.process.wait, 15)
    counts = load.counts()
    report("gateway SIGTERM under load", load, f"| in flight when the listener closed: {in_flight} | exit {exit_code}")
    assert ready_after_sigterm.status_code == 503 and health_after_sigterm.status_code == 200
    assert in_flight > 0
    assert counts["failed"] == 0 and counts["partial"] == 0, load.failures()
    assert exit_code == 0
