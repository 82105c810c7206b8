"""Progressive override (`@override(from:, label:)`): which subgraph serves a field depends on labels."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from graphql import parse

from gateway.planning import build_query_plan
from gateway.planning.nodes import iter_fetches
from gateway.supergraph import load_supergraph

SUPERGRAPH = Path(__file__).parent.parent / "fixtures" / "planning" / "progressive" / "supergraph.graphql"
QUERY = "{ products { name price stock } }"


def _services_by_field(sg) -> dict[str, str]:
    """Which subgraph's fetch selects `price` and `stock` in the plan."""
    out = {}
    for fetch in iter_fetches(build_query_plan(sg, parse(QUERY)).node):
        for name in ("price", "stock"):
            if name in fetch.operation:
                out[name] = fetch.service_name
    return out


def test_labels_off_keep_the_original_subgraph_and_on_move_the_field() -> None:
    sg = load_supergraph(SUPERGRAPH.read_text())
    assert sg.override_labels == {"price-from-a", "percent(30)"}
    assert _services_by_field(sg) == {"price": "b", "stock": "b"}
    assert _services_by_field(sg.variant(frozenset({"price-from-a"}))) == {"price": "a", "stock": "b"}
    both = sg.variant(frozenset({"price-from-a", "percent(30)", "unknown-label"}))
    assert _services_by_field(both) == {"price": "a", "stock": "a"}
    # Each label set is its own supergraph for caching: plans never leak across label sets.
    assert len({sg.sdl_hash, sg.variant(frozenset({"price-from-a"})).sdl_hash, both.sdl_hash}) == 3
    assert sg.variant(frozenset({"unknown-label"})) is sg


def _plan_text(port: int) -> str:
    r = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": QUERY},
        headers={"Apollo-Expose-Query-Plan": "true"},
        timeout=10,
    )
    return r.json()["extensions"]["apolloQueryPlan"]["text"]


def test_configured_labels_and_percentages_steer_requests(start_service, free_port, tmp_path) -> None:
    config = tmp_path / "fedgate.yaml"
    # No retries: the subgraphs are not running, and only the plan matters here.
    config.write_text("override_labels: [price-from-a]\ntraffic_shaping:\n  all:\n    retry:\n      enabled: false\n")
    port = free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(SUPERGRAPH), "--port", str(port),
            "--config", str(config)]
    start_service("gateway-progressive", argv, port)
    # The subgraphs are not running: the fetches fail, but the exposed plan shows who would serve what.
    plans = [_plan_text(port) for _ in range(60)]
    a_only = [p for p in plans if 'service: "b"' not in p]
    with_b = [p for p in plans if 'service: "b"' in p]
    assert all("price" not in p.split('service: "b"')[1] for p in with_b)  # price always from a (configured)
    # stock follows percent(30): some requests from a, most from b.
    assert a_only and with_b
