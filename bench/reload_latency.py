"""Supergraph reload latency: seconds from the end of writing `--supergraph PATH` to the first response
served from the new supergraph, with file-system notifications and with polling only.

    .venv/bin/python -m bench.reload_latency [--rounds 10]

Uses schema/supergraph.graphql (no subgraph is called: the probe is introspection), alternating it
with a copy that has one more Query field; prints min / median / max per mode.
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
import yaml

from bench.procs import Proc

ROOT = Path(__file__).resolve().parents[1]
PROBE = '{ __type(name: "Query") { fields { name } } }'


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _has(url: str, field: str) -> bool:
    body = httpx.post(url, json={"query": PROBE}, timeout=5).json()
    return any(f["name"] == field for f in body["data"]["__type"]["fields"])


def measure(mode: str, rounds: int, workdir: Path) -> list[float]:
    v1 = (ROOT / "schema" / "supergraph.graphql").read_text()
    marker = "type Query\n"
    head, _, tail = v1.partition(marker)
    body_start = tail.index("{\n") + 2
    v2 = head + marker + tail[:body_start] + "  reloadProbe: String @join__field(graph: ORDERS)\n" + tail[body_start:]
    sdl = workdir / f"{mode}.graphql"
    sdl.write_text(v1)
    lifecycle = {"shutdown_delay": 0, "watch_interval": 1.0, "file_notifications": mode == "notify"}
    config = workdir / f"{mode}.yaml"
    config.write_text(yaml.safe_dump({"lifecycle": lifecycle}))
    port = _port()
    proc = Proc(mode, [sys.executable, "-m", "gateway", "serve", "--supergraph", str(sdl), "--port", str(port),
                       "--config", str(config)], cwd=ROOT, log=workdir / f"{mode}.log")
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError((workdir / f"{mode}.log").read_text())
            time.sleep(0.05)
        out: list[float] = []
        for i in range(rounds):
            text, present = (v2, True) if i % 2 == 0 else (v1, False)
            sdl.write_text(text)
            written = time.monotonic()
            while _has(url, "reloadProbe") != present:
                if time.monotonic() - written > 10:
                    raise RuntimeError("no reload within 10 s")
                time.sleep(0.002)
            out.append(time.monotonic() - written)
            time.sleep(0.3)
        return out
    finally:
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("notify", "poll"):
            got = measure(mode, args.rounds, Path(tmp))
            print(f"{mode:6s} reload latency ms: min {min(got) * 1000:.0f}  median "
                  f"{statistics.median(got) * 1000:.0f}  max {max(got) * 1000:.0f}  (n={len(got)})")


if __name__ == "__main__":
    main()
