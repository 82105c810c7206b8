"""Publish-to-served latency through the schema registry, for one gateway and for three.

    .venv/bin/python -m bench.registry_latency [--rounds 5 --poll 1.0]

A registry (SQLite in a temp dir) and N gateways following it with `--supergraph-url`
(`lifecycle.poll_interval` = --poll). Each round publishes the orders subgraph with one more Query
field and times, from the start of the publish call, until every gateway answers introspection with
that field. No subgraph is called. Prints the publish call's own time and min / median / max of
publish-to-served; the poll interval bounds the wait (on average half of it, plus loading).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.procs import Proc

ROOT = Path(__file__).resolve().parents[1]
PROBE = '{ __type(name: "Query") { fields { name } } }'
ADMIN = "bench-admin"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def _has(url: str, field: str) -> bool:
    body = httpx.post(url, json={"query": PROBE}, timeout=5).json()
    return any(f["name"] == field for f in body["data"]["__type"]["fields"])


def run(gateways: int, rounds: int, poll: float, workdir: Path) -> tuple[list[float], list[float]]:
    """(publish call seconds, publish-to-served seconds) per round."""
    procs: list[Proc] = []
    headers = {"authorization": f"Bearer {ADMIN}"}
    rport = _port()
    base = f"http://127.0.0.1:{rport}"
    procs.append(Proc("registry", [sys.executable, "-m", "gateway", "registry", "serve", "--database",
                                   str(workdir / f"registry-{gateways}.db"), "--port", str(rport), "--admin-token",
                                   ADMIN, "--log-level", "warning"], cwd=ROOT, log=workdir / "registry.log"))
    try:
        _wait(f"{base}/health")
        httpx.post(f"{base}/graphs", json={"name": "shop"}, headers=headers, timeout=10)
        sdl = {n: (ROOT / "schema" / f"{n}.graphql").read_text() for n in ("orders", "payments", "delivery")}
        for i, (name, text) in enumerate(sdl.items()):
            httpx.put(f"{base}/graphs/shop/variants/bench/subgraphs/{name}", headers=headers, timeout=60,
                      json={"sdl": text, "routing_url": f"http://127.0.0.1:{4001 + i}/graphql"}).raise_for_status()
        config = workdir / "fedgate.yaml"
        config.write_text(f"lifecycle:\n  poll_interval: {poll}\n")
        urls = []
        for i in range(gateways):
            port = _port()
            procs.append(Proc(f"gateway{i}", [sys.executable, "-m", "gateway", "serve", "--supergraph-url",
                                              f"{base}/graphs/shop/variants/bench/supergraph", "--supergraph-token",
                                              ADMIN, "--port", str(port), "--config", str(config)],
                              cwd=ROOT, log=workdir / f"gateway{i}.log"))
            _wait(f"http://127.0.0.1:{port}/ready")
            urls.append(f"http://127.0.0.1:{port}/graphql")
        calls, served = [], []
        for r in range(rounds):
            field = f"benchProbe{r}"
            text = sdl["orders"].replace("type Query {", f"type Query {{\n  {field}: String", 1)
            time.sleep(poll * 0.37)  # do not always publish at the same phase of the polls
            start = time.monotonic()
            httpx.put(f"{base}/graphs/shop/variants/bench/subgraphs/orders", headers=headers, timeout=60,
                      json={"sdl": text, "routing_url": "http://127.0.0.1:4001/graphql"}).raise_for_status()
            calls.append(time.monotonic() - start)
            pending = set(urls)
            while pending:
                pending = {u for u in pending if not _has(u, field)}
                if time.monotonic() - start > 60:
                    raise SystemExit("a gateway did not serve the publish within 60 s")
                time.sleep(0.01)
            served.append(time.monotonic() - start)
        return calls, served
    finally:
        for proc in reversed(procs):
            proc.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--poll", type=float, default=1.0, help="lifecycle.poll_interval of the gateways (seconds)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 3):
            calls, served = run(n, args.rounds, args.poll, Path(tmp))
            print(f"{n} gateway(s), poll {args.poll:.1f}s: publish call median {statistics.median(calls) * 1000:.0f} ms; "
                  f"publish-to-served min {min(served):.2f}s median {statistics.median(served):.2f}s "
                  f"max {max(served):.2f}s", flush=True)


if __name__ == "__main__":
    main()
