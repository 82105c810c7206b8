"""In-process micro-benchmark of one whole request through the gateway's ASGI app.

Unlike `bench.micro_execute` (the executor alone), this calls the Starlette app directly with an
ASGI scope for `POST /graphql`: middleware, body reading, limits, authorization, the prepared-operation
lookup, execution and JSON encoding, against the canned subgraph answers of `micro_execute`. No sockets.

```
.venv/bin/python -m bench.micro_request                 # guild and scale-100
.venv/bin/python -m bench.micro_request --runs 9 --budget 0.5
.venv/bin/python -m bench.micro_request --compression  # also with Accept-Encoding gzip and br
```

Figures are CPU time (`time.process_time`) per request, median of `--runs` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import orjson

from bench.micro_execute import FIXTURES, CannedTransport
from bench.workloads import SCALE_QUERY
from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph


class Request:
    """One request body replayed through the ASGI app."""

    def __init__(self, app: Any, body: bytes, accept_encoding: str | None = None) -> None:
        self.app = app
        self.body = body
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 4000),
        }
        if accept_encoding:
            self.scope["headers"].append((b"accept-encoding", accept_encoding.encode()))
        self.status = 0
        self.answer = b""

    async def once(self) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(dict(self.scope), receive, send)
        self.answer = b"".join(chunks)

    async def loop(self, n: int) -> None:
        for _ in range(n):
            await self.once()


def measure(loop: asyncio.AbstractEventLoop, request: Request, runs: int, budget: float) -> list[float]:
    """µs of CPU per request for each run."""
    loop.run_until_complete(request.loop(3))
    if request.status != 200 or (b'"errors"' in request.answer and request.answer.startswith(b"{")):
        raise SystemExit(f"wrong answer {request.status}: {request.answer[:300]!r}")
    start = time.process_time()
    loop.run_until_complete(request.loop(5))
    n = max(1, int(budget / max((time.process_time() - start) / 5, 1e-6)))
    figures = []
    for _ in range(runs):
        start = time.process_time()
        loop.run_until_complete(request.loop(n))
        figures.append((time.process_time() - start) / n * 1e6)
    return figures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.4, help="CPU seconds per run")
    ap.add_argument("--compression", action="store_true", help="also measure gzip and br responses")
    args = ap.parse_args(argv)
    supergraph = load_supergraph((FIXTURES / "guild-supergraph.graphql").read_text())
    config = GatewayConfig()
    app = create_app(supergraph, config, transport=CannedTransport())
    loop = asyncio.new_event_loop()
    guild = (FIXTURES / "guild-testquery.graphql").read_text()
    for name, payload in (
        ("guild", {"query": guild}),
        ("scale-100", {"query": SCALE_QUERY, "variables": {"n": 100}}),
    ):
        for encoding in (None, "gzip", "br") if args.compression else (None,):
            request = Request(app, orjson.dumps(payload), encoding)
            figures = measure(loop, request, args.runs, args.budget)
            med = statistics.median(figures)
            label = f"{name} {encoding}" if encoding else name
            print(
                f"{label:16} {med:10.1f} µs/request   (min {min(figures):.1f}, max {max(figures):.1f})"
                f"   {len(request.answer):7d} bytes",
                flush=True,
            )


if __name__ == "__main__":
    main()
