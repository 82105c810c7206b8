"""What the plugin hooks cost: CPU per request through the ASGI app in-process, with no plugin, with
one no-op plugin at every hook, and with the coprocessor (a real HTTP service in another process).

```
.venv/bin/python -m bench.plugins_bench            # writes bench/results/PLUGINS.md
.venv/bin/python -m bench.plugins_bench --runs 9 --budget 0.5
```

The workload is The Guild's benchmark query against the canned subgraph answers of
`bench.micro_execute` (no sockets to subgraphs), so the figures are the gateway's own CPU. The
coprocessor runs in a child process (uvicorn, answers every stage unchanged) and is called at
RouterRequest, SubgraphRequest and RouterResponse; its own CPU is not counted, the gateway's
HTTP client work is. Figures are medians of `--runs` runs of `time.process_time` per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.micro_execute import FIXTURES, CannedTransport
from bench.micro_request import Request, measure
from gateway.config import GatewayConfig, PluginEntry
from gateway.plugins import (
    ClientResponse,
    OperationInfo,
    PlanView,
    Plugin,
    PluginContext,
    RouterRequest,
    SubgraphRequest,
    SubgraphResponse,
)
from gateway.server import create_app
from gateway.supergraph import load_supergraph

RESULTS = Path(__file__).resolve().parent / "results" / "PLUGINS.md"

_ECHO_COPROCESSOR = """
import orjson, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
async def handle(request):
    return Response(await request.body(), media_type="application/json")
uvicorn.run(Starlette(routes=[Route("/", handle, methods=["POST"])]), host="127.0.0.1", port={port},
            log_level="warning", access_log=False)
"""


class NoopEverywhere(Plugin):
    """A plugin that implements every hook and does nothing: the cost of the hook system itself."""

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        pass

    async def operation(self, ctx: PluginContext, operation: OperationInfo) -> None:
        pass

    async def plan(self, ctx: PluginContext, plan: PlanView) -> None:
        pass

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        pass

    async def subgraph_response(self, ctx: PluginContext, response: SubgraphResponse) -> None:
        pass

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_coprocessor() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", _ECHO_COPROCESSOR.replace("{port}", str(port))])
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b'{"version":1}', timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the coprocessor did not start")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.4, help="CPU seconds per run")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    supergraph = load_supergraph((FIXTURES / "guild-supergraph.graphql").read_text())
    body = orjson.dumps({"query": (FIXTURES / "guild-testquery.graphql").read_text()})
    copro, url = _start_coprocessor()
    stage = {"headers": True, "body": True, "context": True}
    setups: list[tuple[str, list[PluginEntry]]] = [
        ("no plugin", []),
        ("one no-op plugin at every hook", [PluginEntry(name="bench.plugins_bench:NoopEverywhere")]),
        (
            "coprocessor (RouterRequest, SubgraphRequest, RouterResponse)",
            [
                PluginEntry(
                    name="coprocessor",
                    config={
                        "url": url,
                        "router": {"request": stage, "response": {"headers": True}},
                        "subgraph": {"all": {"request": stage}},
                    },
                )
            ],
        ),
    ]
    rows: list[tuple[str, float, float, float]] = []
    loop = asyncio.new_event_loop()
    try:
        for name, plugins in setups:
            app: Any = create_app(supergraph, GatewayConfig(plugins=plugins), transport=CannedTransport())
            chain = app.state.gateway.plugins
            loop.run_until_complete(chain.startup())  # what the app's lifespan does first
            figures = measure(loop, Request(app, body), args.runs, args.budget)
            loop.run_until_complete(chain.shutdown())
            med = statistics.median(figures)
            rows.append((name, med, min(figures), max(figures)))
            print(f"{name:60} {med:9.1f} µs/request", flush=True)
    finally:
        os.kill(copro.pid, signal.SIGTERM)
        copro.wait(10)
    base = rows[0][1]
    lines = [
        "# Plugin hooks: CPU per request",
        "",
        "`python -m bench.plugins_bench` (The Guild's benchmark query, in-process ASGI, canned subgraph answers;",
        f"median of {args.runs} runs of about {args.budget} CPU-s each; the machine may be shared, so read the ratios).",
        "",
        "| setup | µs CPU / request | vs no plugin |",
        "|---|---:|---:|",
    ]
    for name, med, _lo, _hi in rows:
        lines.append(f"| {name} | {med:.0f} | {med / base:.2f}x |")
    if not args.no_write:
        RESULTS.write_text("\n".join(lines) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
