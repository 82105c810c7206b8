"""Usage reporting from a real gateway to a real registry, and the usage-aware `fedgate check` on top of it."""

from __future__ import annotations

import time

import httpx
from graphql import parse
from registry_helpers import ADMIN, FEDGATE, Api, fedgate, publish_shop, shop_sdl

from gateway.observability.usage import describe_operation
from gateway.supergraph import load_supergraph

TOTAL = 'query OrderTotal { order(id: "2") { id total { cents currency } } }'


def _gateway(start_service, free_port, tmp_path, registry_url: str, token: str, usage_endpoint: str,  # type: ignore[no-untyped-def]
             extra: str = ""):
    config = tmp_path / "fedgate.yaml"
    config.write_text(f"usage_reporting:\n  endpoint: {usage_endpoint}\n  interval: 0.3\n{extra}")
    port = free_port()
    return start_service("gateway", [*FEDGATE, "serve", "--supergraph-url",
                                     f"{registry_url}/graphs/shop/variants/prod/supergraph", "--port", str(port),
                                     "--config", str(config), "--log-level", "warning"], port,
                         env={"FEDGATE_SUPERGRAPH_TOKEN": token, "FEDGATE_USAGE_REPORTING_TOKEN": token})


def test_usage_aware_check_names_operations_and_clients(subgraphs, start_registry, start_service, free_port,  # type: ignore[no-untyped-def]
                                                         tmp_path) -> None:
    registry = start_registry()
    api = Api(registry.base_url)
    publish_shop(api, "shop@prod", subgraphs)
    read = api.make_token("read", "shop")
    gateway = _gateway(start_service, free_port, tmp_path, registry.base_url, read,
                       f"{registry.base_url}/graphs/shop/variants/prod/usage")
    for version in ("2.1.0", "2.1.0", "3.0.0"):
        r = httpx.post(gateway.url, json={"query": TOTAL}, timeout=10,
                       headers={"apollographql-client-name": "web", "apollographql-client-version": version})
        assert r.json()["data"]["order"]["total"]["cents"] > 0
    no_total = tmp_path / "orders.graphql"
    no_total.write_text(shop_sdl("orders").replace("  total: Money!\n", "", 1))
    no_created = tmp_path / "orders2.graphql"
    no_created.write_text(shop_sdl("orders").replace("  createdAt: String!\n", "", 1))
    env = {"FEDGATE_REGISTRY_TOKEN": read}
    args = ["check", "--registry", registry.base_url, "--graph", "shop@prod", "--name", "orders", "--schema"]

    deadline = time.monotonic() + 15
    while True:  # reports arrive every 0.3 s
        out = fedgate(*args, str(no_total), env=env)
        if out.returncode == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert out.returncode == 1, out.stdout + out.stderr
    line = next(x for x in out.stdout.splitlines() if "Order.total was removed" in x)
    assert line.startswith("BREAKING") and "used by 3 request(s)" in line
    assert "OrderTotal (3)" in line and "web 2.1.0 (2)" in line and "web 3.0.0 (1)" in line

    out = fedgate(*args, str(no_created), env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SAFE      FIELD_REMOVED: Field Order.createdAt was removed. (unused in the last 7d)" in out.stdout
    out = fedgate(*args, str(no_created), "--format", "github", env=env)
    assert out.returncode == 0 and "::notice file=" in out.stdout
    out = fedgate(*args, str(no_total), "--format", "github", env=env)
    assert out.returncode == 1 and "::error file=" in out.stdout and "OrderTotal" in out.stdout

    # Fewer requests than --min-requests asks for: lowered to safe.
    out = fedgate(*args, str(no_total), "--min-requests", "4", env=env)
    assert out.returncode == 0, out.stdout


def test_registry_down_drops_reports_not_requests(subgraphs, start_registry, start_service, free_port,  # type: ignore[no-untyped-def]
                                                  tmp_path) -> None:
    registry = start_registry()
    api = Api(registry.base_url)
    publish_shop(api, "shop@prod", subgraphs)
    closed = free_port()  # nothing listens there
    gateway = _gateway(start_service, free_port, tmp_path, registry.base_url, ADMIN,
                       f"http://127.0.0.1:{closed}/graphs/shop/variants/prod/usage", "  max_queued_reports: 1\n")
    ok = failed = 0
    dropped: list[str] = []
    deadline = time.monotonic() + 20
    while not dropped and time.monotonic() < deadline:  # reports every 0.3 s, a queue of one: drops soon
        for _ in range(5):
            r = httpx.post(gateway.url, json={"query": TOTAL}, timeout=10)
            if r.status_code == 200 and "errors" not in r.json():
                ok += 1
            else:
                failed += 1
        metrics = httpx.get(f"{gateway.base_url}/metrics", timeout=5).text
        dropped = [line for line in metrics.splitlines()
                   if line.startswith('fedgate_usage_reports_dropped_total{reason="queue_full"}')
                   and float(line.split()[-1]) >= 1]
    assert dropped, "no report was counted as dropped"
    assert failed == 0 and ok > 0


def test_coordinates_are_computed_from_the_operation(repo_root) -> None:  # type: ignore[no-untyped-def]
    supergraph = load_supergraph((repo_root / "schema" / "supergraph.graphql").read_text())
    doc = parse('query Q($s: OrderStatus) { orders(first: 2, status: PLACED) { edges { node { id '
                '... on Order { total { cents } } } } } order(id: "1") { __typename status } }')
    usage = describe_operation(supergraph.api_schema, doc, doc.definitions[0])  # type: ignore[arg-type]
    assert usage.name == "Q" and len(usage.hash) == 64
    assert {"Query", "Query.orders", "Query.orders(first:)", "Query.orders(status:)", "OrderStatus.PLACED",
            "OrderStatus", "OrderConnection.edges", "OrderEdge.node", "Order.id", "Order.total", "Money.cents",
            "Query.order", "Query.order(id:)", "Order.status"} <= set(usage.coordinates)
    assert not any(c.startswith("__") or ".__" in c for c in usage.coordinates)
    again = describe_operation(supergraph.api_schema, parse(doc.loc.source.body + "\n"), doc.definitions[0])  # type: ignore[arg-type, union-attr]
    assert again.hash == usage.hash  # whitespace does not change the signature
