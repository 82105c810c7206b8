"""`python -m bench`: start subgraphs and gateways on loopback, load them with wrk, write the report.

Every knob is an environment variable (see docs/benchmark.md); the defaults keep `make bench`
well under 15 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import report
from .gateways import BENCH, Gateway, fedgate, fedgate_has_workers, peers
from .procs import Proc, port_free, post, wait_http
from .workloads import (
    Load,
    guild_load,
    guild_subgraphs,
    guild_supergraph,
    orders_load,
    orders_subgraphs,
    orders_supergraph,
    scale_load,
)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    duration: int = _env_int("BENCH_DURATION", 8)
    warmup: int = _env_int("BENCH_WARMUP", 2)
    rounds: int = _env_int("BENCH_ROUNDS", 2)
    connections: int = _env_int("BENCH_CONNECTIONS", 50)
    threads: int = _env_int("BENCH_THREADS", 2)
    scale_sizes: tuple[int, ...] = tuple(int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "10,100,1000,10000").split(","))
    scale_duration: int = _env_int("BENCH_SCALE_DURATION", 5)
    scale_warmup: int = _env_int("BENCH_SCALE_WARMUP", 2)
    scale_connections: int = _env_int("BENCH_SCALE_CONNECTIONS", 5)
    scale_gateways: tuple[str, ...] = tuple(
        os.environ.get("BENCH_SCALE_GATEWAYS", "fedgate,fedgate-nodedup,apollo,hive,hive-rr,grafbase,grafbase-nodedup").split(","))
    port_base: int = _env_int("BENCH_PORT_BASE", 4450)
    workers: int = _env_int("BENCH_WORKERS", 2)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Stack:
    """Every process the bench started; stop_all() stops them (process groups), newest first."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def add(self, procs: list[Proc]) -> None:
        self.procs.extend(procs)

    def stop(self, procs: list[Proc]) -> None:
        for p in reversed(procs):
            p.stop()
            if p in self.procs:
                self.procs.remove(p)

    def stop_all(self) -> None:
        self.stop(list(self.procs))


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so the finally blocks stop every process."""

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def wrk(url: str, bodies_file: Path, duration: int, connections: int, threads: int, timeout_s: int = 10) -> dict[str, Any]:
    """One wrk run with load.lua; returns its BENCH_RESULT figures."""
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s",
            "-s", str(BENCH / "load.lua"), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + timeout_s + 30,
                         env={**os.environ, "BENCH_BODIES": str(bodies_file)})
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise RuntimeError(f"wrk printed no result (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")


class Bench:
    def __init__(self, settings: Settings, gateways: list[Gateway], tmp: Path) -> None:
        self.s = settings
        self.gateways = gateways
        self.tmp = tmp
        self.stack = Stack()
        self.results: dict[str, Any] = {"settings": settings.__dict__ | {"scale_sizes": list(settings.scale_sizes),
                                                                          "scale_gateways": list(settings.scale_gateways)},
                                        "notes": [], "workloads": {},
                                        "labels": {g.name: g.label for g in gateways},
                                        "fedgate_version": _fedgate_version(), "peers": _peer_versions()}

    def note(self, msg: str) -> None:
        log(msg)
        self.results["notes"].append(msg)

    # -- gateways ---------------------------------------------------------------------------

    def start_gateways(self, supergraph: Path, probe: bytes, port0: int) -> tuple[dict[str, str], list[Proc]]:
        """Start every gateway on the supergraph; returns {name: url} of those that answer."""
        urls: dict[str, str] = {}
        procs: list[Proc] = []
        for i, gw in enumerate(self.gateways):
            port = port0 + i
            if not port_free(port):
                self.note(f"{gw.name}: port {port} is taken, skipped (set BENCH_PORT_BASE)")
                continue
            proc = Proc(gw.name, gw.command(supergraph, port), cwd=gw.cwd, env=gw.env, log=self.tmp / f"{gw.name}.log")
            self.stack.add([proc])
            procs.append(proc)
            url = f"http://127.0.0.1:{port}/graphql"
            try:
                wait_http(url, proc, timeout=90, body=probe)
            except RuntimeError as exc:
                self.note(f"{gw.name}: did not start, skipped: " + " | ".join(str(exc).splitlines()[-3:]))
                self.stack.stop([proc])
                procs.remove(proc)
                continue
            urls[gw.name] = url
            log(f"{gw.name} up on {url} (pid {proc.pid})")
        return urls, procs

    # -- one measured run -------------------------------------------------------------------

    def check(self, url: str, load: Load, reference: dict[bytes, bytes]) -> str | None:
        for body in dict.fromkeys(load.bodies):
            status, got = post(url, body, timeout=60)
            if status != 200:
                return f"HTTP {status}: {got[:200]!r}"
            why = load.check(body, got, reference.get(body))
            if why:
                return why
        return None

    def run_one(self, gw: str, url: str, proc: Proc, load: Load, subgraphs: list[Proc], bodies_file: Path,
                duration: int, connections: int, reference: dict[bytes, bytes], warmup: int) -> dict[str, Any]:
        why = self.check(url, load, reference)
        if why:
            return {"gateway": gw, "ok": False, "why": why}
        if warmup:
            wrk(url, bodies_file, warmup, connections, self.s.threads, timeout_s=30)
        _quiesce(proc)
        f0 = _subgraph_fetches(subgraphs)
        gw0, sg0, t0 = proc.cpu_ms(), sum(p.cpu_ms() for p in subgraphs), time.monotonic()
        r = wrk(url, bodies_file, duration, connections, self.s.threads, timeout_s=30)
        gw1, sg1, t1 = proc.cpu_ms(), sum(p.cpu_ms() for p in subgraphs), time.monotonic()
        f1 = _subgraph_fetches(subgraphs)
        _quiesce(proc)
        n = max(r["requests"], 1)
        errors = r["non200"] + r["gql_errors"] + r["socket_errors"] + r["timeouts"]
        row = {
            "gateway": gw, "ok": True, "requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6),
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000, "errors": errors,
            "non200": r["non200"], "gql_errors": r["gql_errors"], "socket_errors": r["socket_errors"],
            "timeouts": r["timeouts"], "cpu_ms_per_req": (gw1 - gw0) / n, "subgraph_cpu_ms_per_req": (sg1 - sg0) / n,
            "gw_cores": (gw1 - gw0) / 1000 / (t1 - t0), "entities": load.entities,
            "fetches_per_req": None if f0 is None or f1 is None else (f1 - f0) / n,
        }
        if r["requests"] == 0:
            row.update(ok=False, why=f"no request completed in {duration} s")
        log(f"  {gw:15s} {row['rps']:8.1f} req/s  p50 {row['p50_ms']:8.1f} ms  p99 {row['p99_ms']:8.1f} ms  "
            f"cpu {row['cpu_ms_per_req']:7.2f} ms/req  subgraphs {row['subgraph_cpu_ms_per_req']:6.2f} ms/req  errors {errors}")
        return row

    def alternate(self, title: str, urls: dict[str, str], procs: dict[str, Proc], load: Load,
                  subgraphs: list[Proc], rounds: int, duration: int, connections: int,
                  warmup: int | None = None) -> list[dict[str, Any]]:
        """Rounds of A B C D, one wrk run per gateway per round (after its warm-up)."""
        bodies_file = self.tmp / f"bodies-{abs(hash(title))}.txt"
        bodies_file.write_bytes(b"\n".join(load.bodies) + b"\n")
        reference = self.reference(urls, load)
        rows = []
        for rnd in range(rounds):
            log(f"{title}: round {rnd + 1}/{rounds}, {connections} connections, {duration}s per gateway")
            for gw, url in urls.items():
                row = self.run_one(gw, url, procs[gw], load, subgraphs, bodies_file, duration, connections, reference,
                                   self.s.warmup if warmup is None else warmup)
                row["round"] = rnd
                if not row["ok"]:
                    self.note(f"{title}: {gw} answered wrongly, not loaded: {row['why']}")
                rows.append(row)
        return rows

    def reference(self, urls: dict[str, str], load: Load) -> dict[bytes, bytes]:
        """The reference answers (Apollo Gateway's, else the first gateway's) for loads judged against one."""
        ref: dict[bytes, bytes] = {}
        order = sorted(urls, key=lambda g: g != "apollo")
        for body in dict.fromkeys(load.bodies):
            for gw in order:
                status, got = post(urls[gw], body, timeout=60)
                if status == 200 and load.check(body, got, None) is None:
                    ref[body] = got
                    break
        return ref

    # -- workloads --------------------------------------------------------------------------

    def guild(self, scale: bool) -> None:
        base = self.s.port_base
        log("workload 1: The Guild's gateways benchmark (TestQuery)")
        sg_procs, ports = guild_subgraphs(base, self.tmp)
        self.stack.add(sg_procs)
        try:
            supergraph = guild_supergraph(ports, self.tmp)
            load = guild_load()
            urls, gprocs = self.start_gateways(supergraph, load.bodies[0], base + 10)
            procs = {p.name: p for p in gprocs}
            rows = self.alternate("workload 1", urls, procs, load, sg_procs, self.s.rounds, self.s.duration,
                                  self.s.connections)
            self.results["workloads"]["guild"] = {"title": "Workload 1: The Guild's TestQuery", "rows": rows,
                                                  "connections": self.s.connections}
            self.save()
            if scale:
                scale_rows = []
                scale_urls = {g: u for g, u in urls.items() if g in self.s.scale_gateways}
                for n in self.s.scale_sizes:
                    scale_rows += self.alternate(f"scale {n}", scale_urls, procs, scale_load(n), sg_procs, 1,
                                                 self.s.scale_duration, self.s.scale_connections, self.s.scale_warmup)
                self.results["workloads"]["scale"] = {"title": "Scale: topProducts(first: N)", "rows": scale_rows,
                                                      "connections": self.s.scale_connections}
                self.save()
            self.stack.stop(gprocs)
        finally:
            self.stack.stop(sg_procs)

    def orders(self) -> None:
        base = self.s.port_base + 5
        log("workload 2: orders / payments / delivery mix")
        if not (BENCH.parent / "subgraphs" / "orders").is_dir():
            self.note("workload 2 skipped: subgraphs/orders is missing")
            return
        dbdir = self.tmp / "db"
        dbdir.mkdir(exist_ok=True)
        try:
            sg_procs, ports = orders_subgraphs(base, self.tmp, dbdir)
        except RuntimeError as exc:
            self.note(f"workload 2 skipped: the orders/payments/delivery subgraphs did not start: {exc}")
            return
        self.stack.add(sg_procs)
        try:
            supergraph = orders_supergraph(ports, self.tmp)
            order_id, place_input = _orders_fixture(ports["orders"])
            load = orders_load(order_id, place_input)
            urls, gprocs = self.start_gateways(supergraph, load.bodies[1], self.s.port_base + 20)
            procs = {p.name: p for p in gprocs}
            rows = self.alternate("workload 2", urls, procs, load, sg_procs, self.s.rounds, self.s.duration,
                                  self.s.connections)
            self.results["workloads"]["orders"] = {"title": "Workload 2: orders/payments/delivery mix", "rows": rows,
                                                   "connections": self.s.connections}
            self.save()
            self.stack.stop(gprocs)
        finally:
            self.stack.stop(sg_procs)

    def save(self) -> None:
        out = Path(os.environ.get("BENCH_RESULTS_DIR", BENCH / "results"))
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(self.results, indent=1) + "\n")
        report.write(self.results, out)


def _fedgate_version() -> str:
    """The commit under test, and whether gateway/ had uncommitted changes (others work in the tree)."""
    root = BENCH.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "gateway"], cwd=root, capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    return f"commit {head}" + (" plus uncommitted changes in gateway/" if dirty.strip() else "")


def _peer_versions() -> str:
    pkg = json.loads((BENCH / "peers" / "package.json").read_text())["dependencies"]
    return ", ".join(f"{k} {v}" for k, v in pkg.items() if k != "graphql")


def _quiesce(proc: Proc, timeout: float = 20.0) -> None:
    """Wait until the gateway is idle (under 5% of a core for 0.3 s): abandoned warm-up requests
    must not be billed to the measured run."""
    deadline = time.monotonic() + timeout
    last = proc.cpu_ms()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = proc.cpu_ms()
        if now - last < 15:
            return
        last = now


def _subgraph_fetches(subgraphs: list[Proc]) -> int | None:
    """Requests the bench subgraphs have answered so far (GET /stats); None for other subgraphs."""
    import orjson

    total = 0
    for p in subgraphs:
        if p.stats_url is None:
            return None
        try:
            with urllib.request.urlopen(p.stats_url, timeout=5) as r:
                total += orjson.loads(r.read())["requests"]
        except OSError:
            return None
    return total


def _orders_fixture(orders_port: int) -> tuple[str, dict[str, Any]]:
    """An order that has a payment and a delivery, and a valid placeOrder input, read from orders."""
    import orjson

    url = f"http://127.0.0.1:{orders_port}/graphql"
    q = b'{"query":"{ orders(first: 50, status: APPROVED) { edges { node { id } } } restaurants { id menu { id } } }"}'
    status, body = post(url, q)
    data = orjson.loads(body)["data"]
    order_id = data["orders"]["edges"][0]["node"]["id"]
    restaurant = data["restaurants"][0]
    status, body = post(url, b'{"query":"{ order(id: \\"' + order_id.encode() + b'\\") { customer { id } } }"}')
    customer = orjson.loads(body)["data"]["order"]["customer"]["id"]
    place = {"customerId": customer, "restaurantId": restaurant["id"],
             "items": [{"menuItemId": restaurant["menu"][0]["id"], "quantity": 1}],
             "deliveryAddress": {"street": "1 Bench Street", "city": "Berlin", "postalCode": "10115"}}
    return order_id, place


def _preflight() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run bench/run.sh (it installs it), or apt-get install wrk")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", "guild,scale,orders"),
                        help="comma list of guild, scale, orders (default: all)")
    parser.add_argument("--gateways", default=os.environ.get("BENCH_GATEWAYS", "fedgate,fedgate-nodedup,apollo,hive,hive-rr,grafbase,grafbase-nodedup"),
                        help="comma list of fedgate, fedgate-nodedup, fedgate-httpx, fedgate-reqdedup, apollo, hive, hive-rr, "
                        "grafbase, grafbase-nodedup "
                        "(with BENCH_HIVE_DEDUP=1, fedgate-reqdedup joins)")
    args = parser.parse_args(argv)
    _preflight()
    only = set(args.only.split(","))
    wanted = args.gateways.split(",")
    if os.environ.get("BENCH_HIVE_DEDUP") == "1" and "fedgate" in wanted and "fedgate-reqdedup" not in wanted:
        wanted.insert(1, "fedgate-reqdedup")  # inbound dedup on both sides
    settings = Settings()
    variants = [fedgate(variant=v) for v in ("nodedup", "httpx", "reqdedup")]
    available = {g.name: g for g in [fedgate(), *variants, *peers()]}
    gateways = [available[n] for n in wanted if n in available]
    if any(g.peer for g in gateways) and not (BENCH / "peers" / "node_modules").is_dir():
        log("bench/peers/node_modules is missing (run bench/run.sh): peers skipped")
        gateways = [g for g in gateways if not g.peer]
    notes = []
    if any(g.name.startswith("hive") for g in gateways):
        if os.environ.get("BENCH_HIVE_DEDUP") == "1":
            notes.append("Hive Gateway ran with inbound in-flight request deduplication, as in The Guild's benchmark")
        else:
            notes.append("Hive Gateway ran without inbound request deduplication (BENCH_HIVE_DEDUP=1 is The Guild's setting)")
    if "fedgate" in wanted:
        if fedgate_has_workers():
            gateways.insert(1, fedgate(settings.workers))
        else:
            notes.append("fedgate serve --workers does not exist yet: the multi-process run is skipped")
    tmp = Path(tempfile.mkdtemp(prefix="fedgate-bench-"))
    bench = Bench(settings, gateways, tmp)
    for n in notes:
        bench.note(n)
    started = time.monotonic()
    with _signals_raise():
        try:
            if "guild" in only or "scale" in only:
                bench.guild(scale="scale" in only)
            if "orders" in only:
                bench.orders()
        except KeyboardInterrupt:
            log("interrupted: stopping every process")
            raise SystemExit(130) from None
        finally:
            bench.stack.stop_all()
            shutil.rmtree(tmp, ignore_errors=True)
    bench.results["elapsed_s"] = round(time.monotonic() - started)
    bench.save()
    out = os.environ.get("BENCH_RESULTS_DIR", "bench/results")
    log(f"done in {bench.results['elapsed_s']} s: {out}/RESULTS.md, {out}/bench.png")
