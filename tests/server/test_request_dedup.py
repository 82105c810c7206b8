"""`traffic_shaping.deduplicate_requests`: identical concurrent client queries share one execution."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

HERE = Path(__file__).parent
SUPERGRAPH = """schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
}

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import

enum join__Graph {
  S @join__graph(name: "s", url: "http://127.0.0.1:PORT/graphql")
}

enum link__Purpose {
  SECURITY
  EXECUTION
}

type Query @join__type(graph: S) {
  slow(n: Int): Int
}
"""


async def _burst(url: str, bodies: list[dict]) -> list[dict]:
    async with httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(*(client.post(url, json=b) for b in bodies))
    return [a.json() for a in answers]


def _gateway(start_service, free_port, tmp_path, sub_port: int, dedup: bool) -> str:
    supergraph = tmp_path / f"supergraph-{dedup}.graphql"
    supergraph.write_text(SUPERGRAPH.replace("PORT", str(sub_port)))
    config = tmp_path / f"fedgate-{dedup}.yaml"
    # Fetch dedup off, so that only request dedup can share work.
    config.write_text(
        "traffic_shaping:\n"
        f"  deduplicate_requests: {'true' if dedup else 'false'}\n"
        "  all:\n    deduplicate_query: false\n"
    )
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph), "--port", str(port),
            "--config", str(config)]
    start_service(f"gateway-dedup-{dedup}", argv, port)
    return f"http://127.0.0.1:{port}/graphql"


def test_identical_concurrent_queries_share_one_execution(start_service, free_port, tmp_path) -> None:
    sub_port = free_port()
    start_service("slow-subgraph", [sys.executable, str(HERE / "slow_subgraph.py"), str(sub_port)], sub_port)
    count = f"http://127.0.0.1:{sub_port}/count"

    def fetched() -> int:
        return httpx.get(count).json()["count"]

    query = "query($n: Int) { slow(n: $n) }"
    on = _gateway(start_service, free_port, tmp_path, sub_port, dedup=True)
    answers = asyncio.run(_burst(on, [{"query": query, "variables": {"n": 7}}] * 8))
    assert answers == [{"data": {"slow": 7}}] * 8
    assert fetched() == 1

    # Other variables are another request: not shared.
    answers = asyncio.run(_burst(on, [{"query": query, "variables": {"n": i}} for i in range(3)]))
    assert answers == [{"data": {"slow": i}} for i in range(3)]
    assert fetched() == 4

    off = _gateway(start_service, free_port, tmp_path, sub_port, dedup=False)
    answers = asyncio.run(_burst(off, [{"query": query, "variables": {"n": 7}}] * 8))
    assert answers == [{"data": {"slow": 7}}] * 8
    assert fetched() == 12
