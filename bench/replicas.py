"""`python -m bench.replicas` (`make bench-replicas`): fedgate scaled out, and what Redis costs.

On the benchmark's workload 1 (The Guild's TestQuery over its four subgraphs):
- 1, 2 and 3 `fedgate serve` replicas sharing one redis-server (`cache.backend: redis`, as
  deployed) behind Debian's nginx from deploy/nginx/fedgate.conf.template: throughput, latency
  and CPU per request of the gateways, nginx and Redis;
- one replica without nginx with the cache in memory or in Redis, with the entity cache off and
  on: what Redis adds per request.

Short runs (BENCH_REPLICAS_DURATION, 5 s each after a 2 s warm-up): the machine is shared. It
writes bench/results/REPLICAS.md (BENCH_RESULTS_DIR to change where).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .gateways import BENCH
from .nginx import Nginx
from .procs import Proc, port_free, post, wait_http
from .runner import _quiesce, log, wrk
from .workloads import guild_load, guild_subgraphs, guild_supergraph

DURATION = int(os.environ.get("BENCH_REPLICAS_DURATION", 5))
WARMUP = int(os.environ.get("BENCH_REPLICAS_WARMUP", 2))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 50))
THREADS = int(os.environ.get("BENCH_THREADS", 2))
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", 4450)) + 40


def _config(path: Path, redis_url: str | None, entities: bool) -> Path:
    lines = ["cache:"]
    lines += ["  backend: redis", "  redis:", f"    url: {redis_url}"] if redis_url else ["  backend: memory"]
    lines += ["  entities:", f"    enabled: {'true' if entities else 'false'}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _redis(tmp: Path, port: int) -> Proc:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is missing: make redis")
    proc = Proc("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", str(tmp)], log=tmp / "redis.log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.stop()
    raise RuntimeError("redis-server did not start")


def _gateways(n: int, supergraph: Path, config: Path, port0: int, tmp: Path, probe: bytes) -> list[Proc]:
    fedgate = str(Path(sys.executable).with_name("fedgate"))
    procs = []
    try:
        for i in range(n):
            port = port0 + i
            if not port_free(port):
                raise RuntimeError(f"port {port} is taken (set BENCH_PORT_BASE)")
            proc = Proc(f"fedgate-{i + 1}", [fedgate, "serve", "--supergraph", str(supergraph), "--config", str(config),
                                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                        log=tmp / f"fedgate-{port}.log")
            procs.append(proc)
            wait_http(f"http://127.0.0.1:{port}/graphql", proc, timeout=60, body=probe)
    except BaseException:
        for p in procs:
            p.stop()
        raise
    return procs


def _measure(label: str, url: str, bodies: Path, gateways: list[Proc], redis: Proc | None,
             nginx: Nginx | None) -> dict[str, Any]:
    wrk(url, bodies, WARMUP, CONNECTIONS, THREADS, timeout_s=30)
    for g in gateways:
        _quiesce(g)
    g0 = sum(g.cpu_ms() for g in gateways)
    r0 = redis.cpu_ms() if redis else 0.0
    n0 = nginx.cpu_ms() if nginx else 0.0
    t0 = time.monotonic()
    result = wrk(url, bodies, DURATION, CONNECTIONS, THREADS, timeout_s=30)
    elapsed = time.monotonic() - t0
    g1 = sum(g.cpu_ms() for g in gateways)
    r1 = redis.cpu_ms() if redis else 0.0
    n1 = nginx.cpu_ms() if nginx else 0.0
    n = max(result["requests"], 1)
    row = {
        "label": label, "requests": result["requests"], "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
        "errors": result["non200"] + result["gql_errors"] + result["socket_errors"] + result["timeouts"],
        "gateway_cpu_ms": (g1 - g0) / n, "gateway_cores": (g1 - g0) / 1000 / elapsed,
        "redis_cpu_ms": (r1 - r0) / n if redis else None, "nginx_cpu_ms": (n1 - n0) / n if nginx else None,
    }
    log(f"  {label:40s} {row['rps']:8.1f} req/s  p99 {row['p99_ms']:7.1f} ms  gateways {row['gateway_cpu_ms']:.2f} "
        f"CPU-ms/req on {row['gateway_cores']:.2f} cores  errors {row['errors']}")
    return row


def run(tmp: Path) -> dict[str, Any]:
    load = guild_load()
    bodies = tmp / "bodies.txt"
    bodies.write_bytes(b"\n".join(load.bodies) + b"\n")
    subgraphs, ports = guild_subgraphs(PORT_BASE, tmp)
    redis: Proc | None = None
    results: dict[str, Any] = {"scale": [], "redis": [], "load_before": os.getloadavg()[0]}
    try:
        supergraph = guild_supergraph(ports, tmp)
        redis = _redis(tmp, PORT_BASE + 5)
        redis_url = f"redis://127.0.0.1:{PORT_BASE + 5}/0"
        shared = _config(tmp / "shared.yaml", redis_url, entities=False)
        for n in (1, 2, 3):
            gateways = _gateways(n, supergraph, shared, PORT_BASE + 10, tmp, load.bodies[0])
            nginx = Nginx(tmp / f"nginx-{n}", PORT_BASE + 8, [f"127.0.0.1:{PORT_BASE + 10 + i}" for i in range(n)])
            try:
                nginx.start()
                status, body = post(nginx.url, load.bodies[0])
                if status != 200 or load.check(load.bodies[0], body, None):
                    raise RuntimeError(f"wrong answer through nginx: {status} {body[:200]!r}")
                results["scale"].append(
                    _measure(f"{n} replica{'s' if n > 1 else ''} behind nginx", nginx.url, bodies, gateways, redis, nginx)
                    | {"replicas": n})
            finally:
                nginx.stop()
                for g in gateways:
                    g.stop()
        url = f"http://127.0.0.1:{PORT_BASE + 10}/graphql"
        for entities in (False, True):
            for backend in ("memory", "redis"):
                config = _config(tmp / f"{backend}-{entities}.yaml", redis_url if backend == "redis" else None, entities)
                (gateway,) = _gateways(1, supergraph, config, PORT_BASE + 10, tmp, load.bodies[0])
                try:
                    label = f"cache in {backend}, entity cache {'on' if entities else 'off'}"
                    row = _measure(label, url, bodies, [gateway], redis if backend == "redis" else None, None)
                    results["redis"].append(row | {"backend": backend, "entities": entities})
                finally:
                    gateway.stop()
    finally:
        if redis is not None:
            redis.stop()
        for p in subgraphs:
            p.stop()
    results["load_after"] = os.getloadavg()[0]
    return results


def _f(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def write(results: dict[str, Any], out: Path) -> None:
    from .report import _machine

    lines = [
        "# fedgate scaled out: replicas behind nginx, and what Redis costs",
        "",
        f"Written by `make bench-replicas` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {_machine()}.",
        f"Workload 1 (The Guild's TestQuery, four subgraphs); wrk {THREADS} threads, {CONNECTIONS} connections, "
        f"{DURATION} s per run after a {WARMUP} s warm-up, one run each. CPU is user+system time of the processes "
        "named, divided by the requests answered. See docs/benchmark.md for how to read it.",
        f"Load average (1 min) {results['load_before']:.1f} before the run and {results['load_after']:.1f} after: "
        "other work on the machine shares its 2 cores with every process measured here.",
        "",
        "## 1, 2, 3 replicas sharing one Redis, behind nginx",
        "",
        "| replicas | req/s | p50 ms | p99 ms | errors | gateways CPU-ms/req | gateway cores busy | nginx CPU-ms/req | Redis CPU-ms/req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["scale"]:
        lines.append(f"| {r['replicas']} | {_f(r['rps'], 1)} | {_f(r['p50_ms'], 1)} | {_f(r['p99_ms'], 1)} | "
                     f"{r['errors']} / {r['requests']} | {_f(r['gateway_cpu_ms'])} | {_f(r['gateway_cores'])} | "
                     f"{_f(r['nginx_cpu_ms'])} | {_f(r['redis_cpu_ms'])} |")
    lines += [
        "",
        "## What Redis adds per request (one replica, no nginx)",
        "",
        "| cache | req/s | p50 ms | p99 ms | errors | gateway CPU-ms/req | Redis CPU-ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["redis"]:
        lines.append(f"| {r['label']} | {_f(r['rps'], 1)} | {_f(r['p50_ms'], 1)} | {_f(r['p99_ms'], 1)} | "
                     f"{r['errors']} / {r['requests']} | {_f(r['gateway_cpu_ms'])} | {_f(r['redis_cpu_ms'])} |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPLICAS.md").write_text("\n".join(lines) + "\n")
    (out / "replicas.json").write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run bench/run.sh once (it installs it), or apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="fedgate-bench-replicas-"))
    try:
        results = run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(os.environ.get("BENCH_RESULTS_DIR", BENCH / "results"))
    write(results, out)
    log(f"wrote {out}/REPLICAS.md")


if __name__ == "__main__":
    main()
