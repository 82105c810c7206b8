"""In-process micro-benchmark of per-request execution: executor walk, merge and shaping.

Replays The Guild's TestQuery and `topProducts(first: N)` (the scale workload) through
`Executor.execute` against canned subgraph answers: each fetch's answer is computed once by the
bench subgraphs (`bench/subgraphs`) and then served from memory, parsed from its bytes with
`orjson.loads` per fetch as the native client does; each fetch yields to the event loop once,
so the fetches of a Parallel node interleave as they do over the network. No sockets, no HTTP server: what is left is
the gateway's own per-request work after parsing, validation and planning (cached per operation).

```
.venv/bin/python -m bench.micro_execute                   # all workloads
.venv/bin/python -m bench.micro_execute --only guild --runs 9
.venv/bin/python -m bench.micro_execute --profile scale-1000 > /tmp/p.txt  # cProfile of one workload
```

Figures are CPU time (`time.process_time`) per request, median of `--runs` runs; every answer is
checked against the expected response first.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from graphql import parse, validate

from bench.subgraphs.graphs import SUBGRAPHS
from bench.workloads import SCALE_QUERY, scale_expected
from gateway.execution import Executor
from gateway.planning import build_query_plan
from gateway.server.preparation import prepare_operation
from gateway.supergraph import load_supergraph
from gateway.transport import FetchRequest, SubgraphResponse

FIXTURES = Path(__file__).with_name("fixtures")


class CannedTransport:
    """Answers each distinct request body from the bench subgraphs once, then from memory."""

    def __init__(self) -> None:
        self.subgraphs = {name: make() for name, make in SUBGRAPHS.items()}
        self.answers: dict[tuple[str, bytes], bytes] = {}

    async def fetch(self, request: FetchRequest) -> SubgraphResponse:
        subgraph_name, body = request.subgraph, request.body
        # Suspend once, as a real fetch does: the other fetches of a Parallel start meanwhile.
        await asyncio.sleep(0)
        key = (subgraph_name, body)
        raw = self.answers.get(key)
        if raw is None:
            raw = self.answers[key] = self.subgraphs[subgraph_name].execute(body)
        return SubgraphResponse(200, orjson.loads(raw), None, raw)


class Workload:
    """One operation, prepared once, and its expected `data`."""

    def __init__(self, name: str, executor: Executor, query: str, variables: dict[str, Any], expected: Any) -> None:
        self.name = name
        self.executor = executor
        supergraph = executor.supergraph
        document = parse(query)
        errors = validate(supergraph.api_schema, document)
        if errors:
            raise SystemExit(f"{name}: {errors[0].message}")
        self.prepared = prepare_operation(supergraph, document, None, build_query_plan)
        self.variables = variables
        self.expected = expected
        self.entities = 0

    async def once(self) -> dict[str, Any]:
        return await self.executor.execute(self.prepared, self.variables)

    async def loop(self, n: int) -> None:
        execute = self.executor.execute
        prepared, variables = self.prepared, self.variables
        for _ in range(n):
            await execute(prepared, variables)


def _workloads(only: set[str] | None) -> list[Workload]:
    sdl = (FIXTURES / "guild-supergraph.graphql").read_text()
    supergraph = load_supergraph(sdl)
    executor = Executor(supergraph, CannedTransport())
    out: list[Workload] = []
    if not only or "guild" in only:
        expected = orjson.loads((FIXTURES / "guild-testquery.expected.json").read_bytes())
        query = (FIXTURES / "guild-testquery.graphql").read_text()
        out.append(Workload("guild", executor, query, {}, expected.get("data", expected)))
    for n in (100, 1000, 10000):
        name = f"scale-{n}"
        if only and name not in only and "scale" not in only:
            continue
        w = Workload(name, executor, SCALE_QUERY, {"n": n}, orjson.loads(scale_expected(n))["data"])
        w.entities = n
        out.append(w)
    return out


def _iterations(loop: asyncio.AbstractEventLoop, w: Workload, budget: float) -> int:
    start = time.process_time()
    loop.run_until_complete(w.loop(1))
    one = max(time.process_time() - start, 1e-6)
    return max(1, int(budget / one))


def measure(loop: asyncio.AbstractEventLoop, w: Workload, runs: int, budget: float) -> list[float]:
    """µs of CPU per request for each run."""
    result = loop.run_until_complete(w.once())
    if result.get("errors") or result["data"] != w.expected:
        raise SystemExit(f"{w.name}: wrong answer: {orjson.dumps(result)[:300]!r}")
    loop.run_until_complete(w.loop(3))  # warm the shaping and type-matcher memos
    n = _iterations(loop, w, budget)
    figures = []
    for _ in range(runs):
        start = time.process_time()
        loop.run_until_complete(w.loop(n))
        figures.append((time.process_time() - start) / n * 1e6)
    return figures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", help="comma-separated workloads: guild, scale, scale-100, scale-1000, scale-10000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--budget", type=float, default=0.4, help="CPU seconds per run")
    ap.add_argument("--profile", help="cProfile one workload instead of timing, sorted by tottime")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if args.profile:
        only = {args.profile}
    workloads = _workloads(only)
    loop = asyncio.new_event_loop()
    if args.profile:
        import cProfile
        import pstats

        w = workloads[0]
        measure(loop, w, 1, 0.1)
        n = _iterations(loop, w, 2.0)
        prof = cProfile.Profile()
        prof.enable()
        loop.run_until_complete(w.loop(n))
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(25)
        return
    report: dict[str, Any] = {}
    per_entity: dict[int, float] = {}
    for w in workloads:
        figures = measure(loop, w, args.runs, args.budget)
        med = statistics.median(figures)
        report[w.name] = {"us_per_request": round(med, 1), "runs": [round(f, 1) for f in figures]}
        line = f"{w.name:12} {med:10.1f} µs/request   (min {min(figures):.1f}, max {max(figures):.1f})"
        if w.entities:
            per_entity[w.entities] = med / w.entities
            report[w.name]["us_per_entity"] = round(med / w.entities, 3)
            line += f"   {med / w.entities:.3f} µs/entity"
        if not args.json:
            print(line, flush=True)
    if 100 in per_entity and len(per_entity) > 1:
        base = per_entity[100]
        ratios = {n: round(v / base, 2) for n, v in per_entity.items()}
        report["per_entity_vs_100"] = ratios
        if not args.json:
            print("per-entity cost vs 100 entities:", ", ".join(f"{n}: {r}" for n, r in ratios.items()))
    if args.json:
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
