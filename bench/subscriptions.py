"""Subscriptions under load: N concurrent subscribers on one gateway process, one event per second per
order, with and without upstream dedup.

    .venv/bin/python -m bench.subscriptions [--subscribers 1000] [--orders 50] [--seconds 10]

Events are published the way the orders subgraph publishes them (its Redis pub/sub channel), with
the publish time in `createdAt`, so latency is measured from publish to client receipt. Each client
subscribes over its own WebSocket to `orderStatusChanged(id:)` selecting `isPaid` too, so every event
also runs the rest of the plan (one entity fetch to payments per subscriber per event, entity cache
off). Reported per mode: events delivered per second, p50/p99 latency, gateway RSS per subscription,
gateway CPU milliseconds per delivered event. Writes bench/results/subscriptions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
import websockets
import yaml

from bench.procs import Proc, wait_http

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "subscriptions.json"
QUERY = "subscription($id: ID) { orderStatusChanged(id: $id) { id status createdAt isPaid } }"
CHANNEL = "fedgate:orders:order-status:{id}"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Stack:
    """redis-server and the three subgraphs (orders publishing through Redis)."""

    def __init__(self, work: Path) -> None:
        """procs: [redis, orders, payments, delivery] (gateways are started per mode)."""
        self.work = work
        self.procs: list[Proc] = []
        redis_bin = shutil.which("redis-server")
        if redis_bin is None:
            raise SystemExit("redis-server is missing: run `make redis`")
        self.redis_port = _port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self._start("redis", [redis_bin, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"])
        time.sleep(0.3)
        self.ports: dict[str, int] = {}
        for name in ("orders", "payments", "delivery"):
            port = self.ports[name] = _port()
            env = {"REDIS_URL": self.redis_url, "ORDERS_URL": f"http://127.0.0.1:{self.ports['orders']}/graphql"}
            proc = self._start(
                name,
                [sys.executable, "-m", f"subgraphs.{name}", "--port", str(port), "--db", str(work / f"{name}.db"),
                 "--log-level", "warning"],
                env,
            )
            wait_http(f"http://127.0.0.1:{port}/health", proc)

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, cwd=ROOT, env=env, log=self.work / f"{name}.log")
        self.procs.append(proc)
        return proc

    def gateway(self, dedup: bool) -> tuple[Proc, str]:
        sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
        for name, default in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
            sdl = sdl.replace(f"http://127.0.0.1:{default}/", f"http://127.0.0.1:{self.ports[name]}/")
        conf = self.work / "gateway-config"  # apart from the logs: the gateway watches its supergraph's folder
        conf.mkdir(exist_ok=True)
        (conf / "supergraph.graphql").write_text(sdl)
        config = {
            "lifecycle": {"shutdown_delay": 0},
            "subscriptions": {"deduplicate": dedup, "max_total": 100_000, "max_per_connection": 100_000},
        }
        (conf / "fedgate.yaml").write_text(yaml.safe_dump(config))
        port = _port()
        proc = Proc(
            "gateway",
            [sys.executable, "-m", "gateway", "serve", "--supergraph", str(conf / "supergraph.graphql"),
             "--config", str(conf / "fedgate.yaml"), "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, log=self.work / f"gateway-{dedup}.log",
        )
        wait_http(f"http://127.0.0.1:{port}/ready", proc)
        return proc, f"ws://127.0.0.1:{port}/graphql"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


async def _subscriber(url: str, order: int, ready: asyncio.Event, latencies: list[float], counting: list[bool],
                      opened: list[int], stop: asyncio.Event) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=60,  # type: ignore[list-item]
                                  ping_interval=None, max_queue=None) as ws:
        await ws.send('{"type":"connection_init"}')
        await ws.recv()
        await ws.send(orjson.dumps({"id": "1", "type": "subscribe",
                                    "payload": {"query": QUERY, "variables": {"id": str(order)}}}).decode())
        opened[0] += 1
        if opened[1] == opened[0]:
            ready.set()
        reader = asyncio.ensure_future(_read(ws, latencies, counting))
        await stop.wait()
        reader.cancel()


async def _read(ws: Any, latencies: list[float], counting: list[bool]) -> None:
    async for raw in ws:
        now = time.time()
        message = orjson.loads(raw)
        if message.get("type") == "ping":
            await ws.send('{"type":"pong"}')
        elif message.get("type") == "next" and counting[0]:
            event = (message["payload"].get("data") or {}).get("orderStatusChanged")
            if event:
                latencies.append(now - float(event["createdAt"]))


async def _publish(redis_url: str, orders: int, stop: asyncio.Event) -> None:
    """Each order changes once a second, the orders spread evenly over the second."""
    client = aioredis.from_url(redis_url)
    gap = 1.0 / orders
    start = time.monotonic()
    n = 0
    try:
        while not stop.is_set():
            order = n % orders + 1
            event = {"id": str(order), "status": "APPROVED", "createdAt": repr(time.time())}
            await client.publish(CHANNEL.format(id=order), orjson.dumps(event))
            n += 1
            delay = start + n * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        await client.aclose()


async def _await_upstreams(url: str, expected: int, timeout: float = 120) -> float:
    """Seconds until the gateway has `expected` streams open to orders (setup, not measured)."""
    import httpx

    metrics_url = url.replace("ws://", "http://").replace("/graphql", "/metrics")
    start = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() - start < timeout:
            text = (await client.get(metrics_url)).text
            for line in text.splitlines():
                if line.startswith('fedgate_subscription_upstreams{subgraph="orders"}') and float(line.split()[-1]) >= expected:
                    return time.monotonic() - start
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the gateway did not open {expected} streams in {timeout}s")


async def _run_mode(stack: Stack, dedup: bool, subscribers: int, orders: int, seconds: float) -> dict[str, Any]:
    gateway, url = stack.gateway(dedup)
    try:
        await asyncio.sleep(0.5)
        rss_before = _rss_kib(gateway.pid)
        ready, stop = asyncio.Event(), asyncio.Event()
        latencies: list[float] = []
        counting = [False]
        opened = [0, subscribers]
        clients = [
            asyncio.ensure_future(_subscriber(url, i % orders + 1, ready, latencies, counting, opened, stop))
            for i in range(subscribers)
        ]
        await asyncio.wait_for(ready.wait(), 120)
        expected = orders if dedup else subscribers
        waited = await _await_upstreams(url, expected)
        await asyncio.sleep(1.0)  # the subgraph subscribes to Redis
        rss_after = _rss_kib(gateway.pid)
        publisher = asyncio.ensure_future(_publish(stack.redis_url, orders, stop))
        await asyncio.sleep(2.0)  # warm-up: plans, connections
        counting[0] = True
        orders_proc = stack.procs[1]
        cpu0, sub0, t0 = gateway.cpu_ms(), orders_proc.cpu_ms(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, sub1, t1 = gateway.cpu_ms(), orders_proc.cpu_ms(), time.monotonic()
        counting[0] = False
        delivered = len(latencies)
        stop.set()
        await asyncio.gather(publisher, *clients, return_exceptions=True)
        return {
            "dedup": dedup,
            "setup_s": round(waited, 1),
            "subscribers": subscribers,
            "orders": orders,
            "published_per_s": orders,
            "expected_per_s": subscribers,
            "delivered_per_s": round(delivered / (t1 - t0), 1),
            "p50_ms": round(_pct(latencies, 0.50) * 1000, 1),
            "p99_ms": round(_pct(latencies, 0.99) * 1000, 1),
            "rss_kib_per_subscription": round((rss_after - rss_before) / subscribers, 1),
            "gateway_rss_mib": round(rss_after / 1024, 1),
            "cpu_ms_per_event": round((cpu1 - cpu0) / delivered, 3) if delivered else None,
            "gateway_cpu_share": round((cpu1 - cpu0) / ((t1 - t0) * 1000), 2),
            # What the subgraph spends serving the streams: the other side of dedup.
            "orders_cpu_ms_per_event": round((sub1 - sub0) / delivered, 3) if delivered else None,
            "loadavg": Path("/proc/loadavg").read_text().split()[0],
        }
    finally:
        gateway.stop()


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="fedgate-subs-bench-"))
    stack = Stack(work)
    results = []
    try:
        for dedup in {"both": (True, False), "on": (True,), "off": (False,)}[args.dedup]:
            result = await _run_mode(stack, dedup, args.subscribers, args.orders, args.seconds)
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        stack.stop()
        if args.keep:
            print(f"logs kept in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=int(os.environ.get("SUBSCRIBERS", 1000)))
    parser.add_argument("--orders", type=int, default=int(os.environ.get("ORDERS", 50)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SECONDS_PER_MODE", 10)))
    parser.add_argument("--dedup", choices=("both", "on", "off"), default="both", help="modes to run")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results},
                                  indent=2) + "\n")
    print("| dedup | subscribers | delivered/s | p50 ms | p99 ms | RSS KiB/sub | gateway CPU ms/event | orders CPU ms/event |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['dedup']} | {r['subscribers']} | {r['delivered_per_s']} | {r['p50_ms']} | {r['p99_ms']} | "
              f"{r['rss_kib_per_subscription']} | {r['cpu_ms_per_event']} | {r['orders_cpu_ms_per_event']} |")


if __name__ == "__main__":
    main()
