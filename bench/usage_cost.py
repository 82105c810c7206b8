"""CPU cost of usage reporting per request: the in-process request benchmark with and without it.

    .venv/bin/python -m bench.usage_cost [--runs 7 --budget 0.4]

Same ASGI path and canned subgraphs as `bench.micro_request`; the `on` app has
`usage_reporting.endpoint` set, so every request goes through `UsageReporter.record` (the
coordinates are computed once, on the first request of each operation). Apps alternate run by
run so machine noise hits both alike; figures are CPU µs per request, medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import orjson

from bench.micro_execute import FIXTURES, CannedTransport
from bench.micro_request import Request, measure
from bench.workloads import SCALE_QUERY
from gateway.config import GatewayConfig, UsageReportingConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.4, help="CPU seconds per run")
    args = ap.parse_args(argv)
    supergraph = load_supergraph((FIXTURES / "guild-supergraph.graphql").read_text())
    on = GatewayConfig(usage_reporting=UsageReportingConfig(endpoint="http://127.0.0.1:9/graphs/g/variants/v/usage"))
    apps = {"off": create_app(supergraph, GatewayConfig(), transport=CannedTransport()),
            "on": create_app(supergraph, on, transport=CannedTransport())}
    loop = asyncio.new_event_loop()
    guild = (FIXTURES / "guild-testquery.graphql").read_text()
    for name, payload in (("guild", {"query": guild}), ("scale-100", {"query": SCALE_QUERY, "variables": {"n": 100}})):
        body = orjson.dumps(payload)
        figures: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(args.runs):
            for mode, app in apps.items():
                figures[mode] += measure(loop, Request(app, body), 1, args.budget)
        off, on_ = statistics.median(figures["off"]), statistics.median(figures["on"])
        print(f"{name:10} off {off:8.1f} µs/request   on {on_:8.1f} µs/request   cost {on_ - off:+6.1f} µs "
              f"({(on_ - off) / off * 100:+.2f}%)", flush=True)


if __name__ == "__main__":
    main()
