"""Bounded soak: the domain mix through a real `fedgate serve` over the three real subgraphs, one subgraph
restarted (SIGTERM, same port) every `--restart-every` seconds, then the gateway's RSS, open file
descriptors and asyncio tasks compared between the end of the warm-up and the end of the run.

    .venv/bin/python tests/soak/soak.py --requests 200000 --restart-every 30   # `make soak`

Every answer must be exactly the healthy graph's answer: anything else (partial data, an error, a
5xx, a transport error) is a failed request. Resources are sampled with no client connected (the
load's client pool is closed and the gateway given a moment to close its side), so only leaks differ.
`tests/soak/test_soak.py` runs a short version on every `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
# The root conftest's process helpers (plain functions), loaded by path as tests/chaos does.
_spec = importlib.util.spec_from_file_location("_fedgate_root_conftest", ROOT / "tests" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_helpers = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = _helpers
    _spec.loader.exec_module(_helpers)

# The domain mix: one subgraph, two, all three (entity fetches, @requires), a list.
OPERATIONS = [
    '{ order(id: "2") { id status total { cents currency } restaurant { name } } }',
    "{ agents { name } }",
    '{ order(id: "1") { id status payment { id status } } }',
    '{ order(id: "1") { id status isPaid refundDue payment { status } delivery { status agent { name } } } }',
    "{ restaurants { name } }",
]
# Each subgraph is a single process, so a restart is an outage of the whole subgraph (1-2 s here,
# over 5 s on a loaded shared machine): retries must bridge it (about 15 s of backoff instead of the
# default's 4), or a request that needs it fails. Everything else is the default configuration.
CONFIG = """
lifecycle:
  shutdown_delay: 0
traffic_shaping:
  all:
    retry:
      max_attempts: 20
"""


@dataclass
class Sample:
    """The gateway's resources with no client connected."""

    rss_kb: int
    fds: int
    tasks: int


@dataclass
class SoakReport:
    requests: int = 0
    failed: int = 0
    restarts: int = 0
    longest_restart: float = 0.0  # seconds from SIGTERM to the new process answering
    seconds: float = 0.0
    warmup: Sample | None = None
    end: Sample | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def rss_growth_kb(self) -> int:
        assert self.warmup is not None and self.end is not None
        return self.end.rss_kb - self.warmup.rss_kb

    def summary(self) -> str:
        assert self.warmup is not None and self.end is not None
        return (
            f"requests={self.requests} failed={self.failed} restarts={self.restarts} "
            f"(longest {self.longest_restart:.1f}s) seconds={self.seconds:.0f} "
            f"rss_kb {self.warmup.rss_kb} -> {self.end.rss_kb} ({self.rss_growth_kb:+d}) "
            f"fds {self.warmup.fds} -> {self.end.fds} tasks {self.warmup.tasks} -> {self.end.tasks}"
        )


class Stack:
    """Three subgraphs and a gateway in `workdir`, every process stopped by pid in `stop()`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.subgraphs: dict[str, Any] = _helpers.start_subgraph_stack(workdir)
        self.gateway: Any = None
        self.lock = threading.Lock()  # one restart at a time
        try:
            sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
            for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
                sdl = sdl.replace(f"http://127.0.0.1:{default_port}/", f"{self.subgraphs[name].base_url}/")
            (workdir / "supergraph.graphql").write_text(sdl)
            (workdir / "fedgate.yaml").write_text(CONFIG)
            port = _helpers.find_free_port()
            fedgate = str(Path(sys.executable).parent / "fedgate")
            argv = [fedgate, "serve", "--supergraph", str(workdir / "supergraph.graphql"),
                    "--config", str(workdir / "fedgate.yaml"), "--port", str(port)]
            self.gateway = _helpers.start_service_process("gateway", argv, port, workdir, health_path="/ready")
        except BaseException:
            self.stop()
            raise

    def restart(self, name: str) -> None:
        """SIGTERM subgraph `name` and start it again on the same port and database."""
        with self.lock:
            old = self.subgraphs[name]
            os.kill(old.pid, signal.SIGTERM)
            old.process.wait(10)
            orders_url = None if name == "orders" else self.subgraphs["orders"].url
            self.subgraphs[name] = _helpers.start_subgraph_process(
                name, self.workdir, port=old.port, db_path=old.db_path, orders_url=orders_url
            )

    def sample(self) -> Sample:
        pid = self.gateway.pid
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        text = httpx.get(f"{self.gateway.base_url}/metrics", timeout=10).text
        tasks = int(float(re.search(r"^fedgate_event_loop_tasks (\S+)$", text, re.M).group(1)))  # type: ignore[union-attr]
        return Sample(rss, fds, tasks)

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        for proc in reversed(list(self.subgraphs.values())):
            proc.stop()


async def _load(stack: Stack, expected: list[Any], count: int, concurrency: int, report: SoakReport) -> None:
    """Send `count` requests of the mix from `concurrency` workers over one keep-alive client pool."""
    sent = 0
    url = stack.gateway.url
    payloads = [json.dumps({"query": q}).encode() for q in OPERATIONS]
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            nonlocal sent
            while sent < count:
                i = sent % len(OPERATIONS)
                sent += 1
                try:
                    response = await client.post(url, content=payloads[i], headers=headers)
                    ok = response.status_code == 200 and response.json() == expected[i]
                    detail = f"{response.status_code}: {response.text[:300]}"
                except Exception as exc:  # noqa: BLE001 - every failure is counted, never raised
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                report.requests += 1
                if not ok:
                    report.failed += 1
                    if len(report.failures) < 10:
                        report.failures.append(f"{OPERATIONS[i][:40]}... -> {detail}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _quiet_sample(stack: Stack) -> Sample:
    """A sample once the load's connections are gone (the client closed them; give the server a moment)."""
    time.sleep(1.5)
    return stack.sample()


def run_soak(requests: int, restart_every: float, concurrency: int, warmup: int, workdir: Path,
             progress: bool = False) -> SoakReport:
    """Run the soak; the report says what happened (the caller decides what is acceptable)."""
    report = SoakReport()
    stack = Stack(workdir)
    stop = threading.Event()
    try:
        expected = [httpx.post(stack.gateway.url, json={"query": q}, timeout=10).json() for q in OPERATIONS]
        for body in expected:
            assert "errors" not in body, body

        def restarter() -> None:
            names = ("orders", "payments", "delivery")
            while not stop.wait(restart_every):
                began = time.monotonic()
                stack.restart(names[report.restarts % len(names)])
                report.restarts += 1
                report.longest_restart = max(report.longest_restart, time.monotonic() - began)
                if progress:
                    print(f"[soak] restart #{report.restarts} ({time.monotonic() - began:.1f}s): "
                          f"{report.requests} requests, {report.failed} failed", flush=True)

        thread = threading.Thread(target=restarter, daemon=True)
        start = time.monotonic()
        thread.start()
        asyncio.run(_load(stack, expected, warmup, concurrency, report))
        report.warmup = _quiet_sample(stack)
        if progress:
            print(f"[soak] warm-up done: {report.warmup}", flush=True)
        asyncio.run(_load(stack, expected, requests - warmup, concurrency, report))
        stop.set()
        thread.join(60)
        report.seconds = time.monotonic() - start
        report.end = _quiet_sample(stack)
        return report
    finally:
        stop.set()
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--restart-every", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=0, help="requests before the baseline sample (default 10%%)")
    parser.add_argument("--max-rss-growth-mb", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    warmup = args.warmup or max(1000, args.requests // 10)
    with tempfile.TemporaryDirectory(prefix="fedgate-soak-") as tmp:
        report = run_soak(args.requests, args.restart_every, args.concurrency, warmup, Path(tmp), progress=True)
    print("[soak]", report.summary())
    for failure in report.failures:
        print("[soak] failed:", failure)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**asdict(report), "rss_growth_kb": report.rss_growth_kb}, indent=2))
    assert report.warmup is not None and report.end is not None
    ok = (
        report.failed == 0
        and report.rss_growth_kb <= args.max_rss_growth_mb * 1024
        and report.end.fds <= report.warmup.fds
        and report.end.tasks <= report.warmup.tasks
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
