"""The workloads: their subgraphs, supergraph, request bodies and how to check an answer."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from .gateways import BENCH, ROOT
from .procs import Proc, wait_http

FIXTURES = BENCH / "fixtures"


@dataclass
class Load:
    """What wrk sends (bodies in turn) and how a sample answer is judged before a run."""

    name: str
    bodies: list[bytes]
    # (body, response bytes, reference response bytes or None) -> None when right, else why not
    check: Callable[[bytes, bytes, bytes | None], str | None]
    entities: int = 0  # entities per response, for the scale figures


def _canon(data: bytes) -> object:
    return orjson.loads(data)


def check_equal_to(expected: bytes | None) -> Callable[[bytes, bytes, bytes | None], str | None]:
    """Answers must equal `expected` (or, when None, the reference gateway's answer) as JSON."""

    def check(body: bytes, got: bytes, reference: bytes | None) -> str | None:
        want = expected if expected is not None else reference
        try:
            parsed = _canon(got)
        except orjson.JSONDecodeError:
            return f"not JSON: {got[:200]!r}"
        if isinstance(parsed, dict) and parsed.get("errors"):
            return f"errors: {orjson.dumps(parsed['errors'])[:300].decode()}"
        if want is not None and parsed != _canon(want):
            return f"differs from the expected answer ({len(got)} bytes, expected {len(want)})"
        return None

    return check


def _body(query: str, variables: dict | None = None, operation_name: str | None = None) -> bytes:
    payload: dict[str, object] = {"query": query}
    if variables:
        payload["variables"] = variables
    if operation_name:
        payload["operationName"] = operation_name
    return orjson.dumps(payload)


def _start_all(specs: list[tuple[str, list[str], dict[str, str], str]], logdir: Path) -> list[Proc]:
    procs: list[Proc] = []
    try:
        for name, argv, env, _ in specs:
            procs.append(Proc(name, argv, cwd=ROOT, env=env, log=logdir / f"{name}.log"))
        for proc, (_, _, _, health) in zip(procs, specs, strict=True):
            wait_http(health, proc, timeout=30)
    except BaseException:
        for p in procs:
            p.stop()
        raise
    return procs


# ---- workload 1: The Guild's federation gateways benchmark -------------------------------------

GUILD_SUBGRAPHS = ("accounts", "inventory", "products", "reviews")


def guild_subgraphs(base_port: int, logdir: Path) -> tuple[list[Proc], dict[str, int]]:
    """Start the four bench subgraphs, one process each, on base_port+0..3."""
    ports = {name: base_port + i for i, name in enumerate(GUILD_SUBGRAPHS)}
    specs: list[tuple[str, list[str], dict[str, str], str]] = [
        (f"sg-{name}", [sys.executable, "-m", "bench.subgraphs.server", name, str(port)], {},
         f"http://127.0.0.1:{port}/health")
        for name, port in ports.items()
    ]
    procs = _start_all(specs, logdir)
    for proc, port in zip(procs, ports.values(), strict=True):
        proc.stats_url = f"http://127.0.0.1:{port}/stats"
    return procs, ports


def guild_supergraph(ports: dict[str, int], out: Path) -> Path:
    """The benchmark's supergraph with its subgraph URLs pointed at our ports."""
    sdl = (FIXTURES / "guild-supergraph.graphql").read_text()
    for name, port in ports.items():
        sdl = re.sub(rf'http://127\.0\.0\.1:\d+/{name}"', f'http://127.0.0.1:{port}/{name}"', sdl)
    path = out / "guild-supergraph.graphql"
    path.write_text(sdl)
    return path


def guild_load() -> Load:
    body = _body((FIXTURES / "guild-testquery.graphql").read_text())
    expected = (FIXTURES / "guild-testquery.expected.json").read_bytes()
    return Load("TestQuery", [body], check_equal_to(expected))


SCALE_QUERY = """query Scale($n: Int) {
  topProducts(first: $n) { upc name price weight inStock shippingEstimate }
}"""


def scale_expected(n: int) -> bytes:
    """The answer to SCALE_QUERY for n products, from the bench subgraphs' own data."""
    from .subgraphs.graphs import IN_STOCK, _product

    rows = []
    for i in range(1, n + 1):
        p = _product(str(i))
        in_stock = IN_STOCK.get(p["upc"])
        rows.append({
            "upc": p["upc"], "name": p["name"], "price": p["price"], "weight": p["weight"],
            "inStock": in_stock if in_stock is not None else i % 3 != 0, "shippingEstimate": None,
        })
    return orjson.dumps({"data": {"topProducts": rows}})


def scale_load(n: int) -> Load:
    return Load(f"{n} entities", [_body(SCALE_QUERY, {"n": n})], check_equal_to(scale_expected(n)), entities=n)


# ---- workload 2: orders / payments / delivery -------------------------------------------------

ORDERS_SUBGRAPHS = ("orders", "payments", "delivery")

ORDER_DETAIL = """query OrderDetail($id: ID!) {
  order(id: $id) {
    id status createdAt
    total { cents currency }
    customer { id name }
    restaurant { id name }
    items { quantity }
    isPaid refundDue
    payment { id amount { cents currency } method status }
    delivery { id status agent { id name vehicle } pickup { name averagePrepMinutes } }
    estimatedDeliveryMinutes
  }
}"""

ORDER_LIST = """query OrderList {
  orders(first: 50, status: APPROVED) {
    totalCount
    edges { node {
      id status total { cents currency }
      customer { name }
      isPaid
      payment { amount { cents } method status }
      delivery { status agent { name } }
      estimatedDeliveryMinutes
    } }
  }
}"""

PLACE_ORDER = """mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status total { cents currency } customer { name } isPaid }
}"""


def orders_subgraphs(base_port: int, logdir: Path, dbdir: Path) -> tuple[list[Proc], dict[str, int]]:
    """Start the orders, payments and delivery subgraphs on fresh SQLite files in dbdir."""
    ports = {name: base_port + i for i, name in enumerate(ORDERS_SUBGRAPHS)}
    env = {f"{n.upper()}_PORT": str(p) for n, p in ports.items()}
    env["ORDERS_URL"] = f"http://127.0.0.1:{ports['orders']}/graphql"
    env["LOG_LEVEL"] = "warning"
    specs = []
    for name in ORDERS_SUBGRAPHS:
        e = {**env, f"{name.upper()}_DB": str(dbdir / f"{name}.db")}
        specs.append((f"sg-{name}", [sys.executable, "-m", f"subgraphs.{name}"], e,
                      f"http://127.0.0.1:{ports[name]}/health"))
    # orders first: the other two read from it
    procs = _start_all(specs[:1], logdir)
    try:
        procs += _start_all(specs[1:], logdir)
    except BaseException:
        for p in procs:
            p.stop()
        raise
    return procs, ports


def orders_supergraph(ports: dict[str, int], out: Path) -> Path:
    sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name, port in ports.items():
        sdl = re.sub(rf'(@join__graph\(name: "{name}", url: ")[^"]*(")', rf"\g<1>http://127.0.0.1:{port}/graphql\g<2>", sdl)
    path = out / "orders-supergraph.graphql"
    path.write_text(sdl)
    return path


def orders_load(order_id: str, place_input: dict) -> Load:
    """Two reads for each write: an order with payment and delivery, 50 orders, a placeOrder."""
    bodies = [
        _body(ORDER_DETAIL, {"id": order_id}),
        _body(ORDER_LIST),
        _body(ORDER_DETAIL, {"id": order_id}),
        _body(ORDER_LIST),
        _body(PLACE_ORDER, {"input": place_input}),
    ]
    equal = check_equal_to(None)

    def check(body: bytes, got: bytes, reference: bytes | None) -> str | None:
        if b"placeOrder" in body:  # a new order each time: judge errors only
            return equal(body, got, None)
        return equal(body, got, reference)

    return Load("mix", bodies, check)
