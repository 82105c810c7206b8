"""Cache figures for the domain workload: latency and subgraph requests per operation with the entity
cache off, in memory, and in Redis.

    .venv/bin/python bench/cache_bench.py [--requests 200]

Starts the three domain subgraphs (fresh SQLite files), a redis-server, and one `fedgate serve` per
mode, all on free loopback ports; sends each operation `--requests` times one after the other (after
one warm-up request) and counts subgraph requests at the subgraphs (their access log lines). Every
process it starts is stopped by pid.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

OPERATIONS: dict[str, str] = {
    "order detail (3 subgraphs)": """{ order(id: "1") { id status isPaid refundDue estimatedDeliveryMinutes
        total { cents currency } restaurant { name averagePrepMinutes }
        delivery { status agent { name } pickup { name averagePrepMinutes } } } }""",
    "orders page (batched entities)": """{ orders(first: 5) { edges { node { id status isPaid
        payment { status } delivery { status agent { name } } } } } }""",
    "restaurants + menus (1 subgraph)": "{ restaurants { id name city menu { name price { cents } } } }",
    "agents (delivery root)": "{ agents { id name vehicle available } }",
}

MODES: dict[str, str] = {
    "off": "",
    # every timed request finds the cache empty (invalidated, untimed, before it): the cost of a miss
    "miss": "cache:\n  entities: {enabled: true, ttl: 300}\n  invalidation: {secret: bench}\n",
    "memory": "cache:\n  entities: {enabled: true, ttl: 300}\n",
    "redis": "cache:\n  backend: redis\n  redis: {url: \"%s\", timeout: 0.1}\n  entities: {enabled: true, ttl: 300}\n",
}


ROUND = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )

    def wait_http(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {url}")

    def requests_logged(self) -> int:
        return self.log.read_text(errors="replace").count('"POST /graphql')

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per operation and mode")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fedgate-cache-bench-"))
    started: list[Process] = []
    try:
        subgraphs: dict[str, Process] = {}
        ports: dict[str, int] = {}
        for name in ("orders", "payments", "delivery"):
            ports[name] = free_port()
            env = {"ORDERS_URL": f"http://127.0.0.1:{ports['orders']}/graphql"} if name != "orders" else {}
            proc = Process(name, [sys.executable, "-m", f"subgraphs.{name}", "--port", str(ports[name]),
                                  "--db", str(work / f"{name}.db")], work / f"{name}.log", env)
            started.append(proc)
            proc.wait_http(f"http://127.0.0.1:{ports[name]}/health")
            subgraphs[name] = proc
        sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
        for name, default in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
            sdl = sdl.replace(f"http://127.0.0.1:{default}/", f"http://127.0.0.1:{ports[name]}/")
        (work / "supergraph.graphql").write_text(sdl)

        redis_binary = shutil.which("redis-server")
        if redis_binary is None:
            raise SystemExit("redis-server is not installed (make redis)")
        redis_port = free_port()
        redis = Process("redis", [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", str(work)], work / "redis.log")
        started.append(redis)
        time.sleep(0.3)

        urls: dict[str, str] = {}
        for mode, template in MODES.items():
            config = work / f"fedgate-{mode}.yaml"
            config.write_text(template % f"redis://127.0.0.1:{redis_port}/0" if "%s" in template else template)
            port = free_port()
            gateway = Process(f"fedgate-{mode}", [str(BIN / "fedgate"), "serve", "--supergraph",
                                                  str(work / "supergraph.graphql"), "--port", str(port),
                                                  "--config", str(config), "--log-level", "warning"],
                              work / f"gateway-{mode}.log")
            started.append(gateway)
            gateway.wait_http(f"http://127.0.0.1:{port}/health")
            urls[mode] = f"http://127.0.0.1:{port}/graphql"

        # Modes take turns in rounds of ROUND requests, so background load on the machine hits all alike.
        rows: list[tuple[str, str, float, float, float, float]] = []
        with httpx.Client(timeout=10) as client:
            for label, query in OPERATIONS.items():
                expected = {mode: client.post(url, json={"query": query}) for mode, url in urls.items()}
                for first in expected.values():
                    assert first.status_code == 200 and "errors" not in first.json(), first.text[:300]
                    assert first.json() == expected["off"].json()
                samples: dict[str, list[float]] = {mode: [] for mode in urls}
                requests: dict[str, int] = dict.fromkeys(urls, 0)
                for _ in range(0, args.requests, ROUND):
                    for mode, url in urls.items():
                        before = sum(p.requests_logged() for p in subgraphs.values())
                        for _ in range(ROUND):
                            if mode == "miss":
                                client.post(url.replace("/graphql", "/invalidation"),
                                            headers={"authorization": "bench"},
                                            json=[{"kind": "subgraph", "subgraph": s} for s in subgraphs])
                                before = sum(p.requests_logged() for p in subgraphs.values())
                            t0 = time.perf_counter()
                            response = client.post(url, json={"query": query})
                            samples[mode].append((time.perf_counter() - t0) * 1000)
                            assert response.json() == expected["off"].json()
                            if mode == "miss":
                                requests[mode] += sum(p.requests_logged() for p in subgraphs.values()) - before
                        if mode != "miss":
                            requests[mode] += sum(p.requests_logged() for p in subgraphs.values()) - before
                for mode in urls:
                    got = sorted(samples[mode])
                    rows.append((label, mode, statistics.median(got), got[int(len(got) * 0.95) - 1],
                                 statistics.mean(got), requests[mode] / len(got)))

        print(f"\n{args.requests} sequential requests per operation and mode (after one warm-up request)\n")
        print("cache: off = entity cache off (default); miss = memory, emptied before each request;")
        print("memory / redis = entity cache in that backend, warm. Plans and APQ are cached in every mode.\n")
        print(f"| {'operation':34} | {'cache':6} | {'p50 ms':>7} | {'p95 ms':>7} | {'mean ms':>7} | "
              f"{'subgraph req/op':>15} |")
        print(f"| {'-' * 34} | {'-' * 6} | {'-' * 7}:| {'-' * 7}:| {'-' * 7}:| {'-' * 15}:|")
        for label, mode, p50, p95, mean, per_op in rows:
            print(f"| {label:34} | {mode:6} | {p50:7.2f} | {p95:7.2f} | {mean:7.2f} | {per_op:15.2f} |")
    finally:
        for proc in reversed(started):
            proc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
