"""What the explorer costs an API call: `bench.micro_request` (one whole `POST /graphql` through the
ASGI app, in process, canned subgraphs) with the explorer off (the `fedgate serve` default), on (as
`make run` and `fedgate dev`), and on with the page's `fedgate-expose-trace` header. Modes are
interleaved, so drift on a shared machine hits each alike. Run it on two checkouts for before/after:

```
.venv/bin/python -m bench.explorer_overhead --runs 7
```
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import orjson

from bench.micro_execute import FIXTURES, CannedTransport
from bench.micro_request import Request
from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph


def _app(explorer: bool) -> Any:
    supergraph = load_supergraph((FIXTURES / "guild-supergraph.graphql").read_text())
    config = GatewayConfig(**({"explorer": {"enabled": True}} if explorer else {}))
    return create_app(supergraph, config, transport=CannedTransport())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--requests", type=int, default=300, help="requests per run and mode")
    args = ap.parse_args(argv)
    body = orjson.dumps({"query": (FIXTURES / "guild-testquery.graphql").read_text()})
    modes = {"explorer off": Request(_app(False), body)}
    if "explorer" in GatewayConfig.model_fields:  # a checkout from before the explorer has only "off"
        on = _app(True)
        modes["explorer on"] = Request(on, body)
        traced = modes["explorer on + trace header"] = Request(on, body)
        traced.scope["headers"] = [*traced.scope["headers"], (b"fedgate-expose-trace", b"true")]
    loop = asyncio.new_event_loop()
    for request in modes.values():
        loop.run_until_complete(request.loop(20))
        assert request.status == 200 and b'"errors"' not in request.answer, request.answer[:300]
    figures: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(args.runs):
        for name, request in modes.items():
            start = time.process_time()
            loop.run_until_complete(request.loop(args.requests))
            figures[name].append((time.process_time() - start) / args.requests * 1e6)
    for name, values in figures.items():
        print(f"{name:28} {statistics.median(values):8.1f} µs/request  (min {min(values):.1f}, max {max(values):.1f})")


if __name__ == "__main__":
    main()
