"""Bad input over HTTP: thousands of generated bad requests, sent concurrently to one gateway process.

Every answer must be a well-formed GraphQL response with status 200 or 4xx (GraphQL over HTTP):
never a 5xx, a traceback, a dropped connection or a request that hangs; the gateway stays alive.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
from gateways import PREFLIGHT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BATCH = 60
BATCHES = 36  # 2,160 generated requests
CONCURRENCY = 24
SENT: list[int] = []

JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class Req:
    kind: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))
    content: bytes | None = None
    params: dict[str, str] | None = None


def _body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

malformed_json = st.binary(max_size=300).map(lambda b: Req("malformed-json", content=b'{"query": ' + b))
binary_garbage = st.binary(min_size=1, max_size=3000).map(lambda b: Req("binary", content=b))
invalid_utf8 = st.binary(min_size=1, max_size=50).map(
    lambda b: Req("invalid-utf8", content=b'{"query": "{ ' + b.replace(b'"', b"") + b'\xff\xfe }"}')
)
wrong_content_type = st.tuples(
    st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
         "application/graphql", "image/png", "", "application/json; charset=utf-16", "*/*"]
    ),
    st.booleans(),
).map(lambda t: Req("content-type", headers={"content-type": t[0]} if t[1] else {},
                    content=_body({"query": "{ restaurants { name } }"})))
deep_nesting = st.integers(20, 1500).map(
    lambda n: Req("deep", content=_body({"query": "{" + "order(id: 1) {" * n + "id" + "}" * (n + 1)}))
)
deep_lists = st.integers(20, 1500).map(
    lambda n: Req("deep-list", content=_body({"query": "{ agents(city: " + "[" * n + '"x"' + "]" * n + ") { name } }"}))
)
deep_json = st.integers(100, 2000).map(
    lambda n: Req("deep-json", content=b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * n + b"]" * n + b"}}")
)
alias_bomb = st.integers(257, 1200).map(
    lambda n: Req("aliases", content=_body({"query": "{ " + " ".join(f"a{i}: restaurants {{ name }}" for i in range(n)) + " }"}))
)
field_bomb = st.integers(100, 600).map(
    lambda n: Req("fields", content=_body({"query": "{ restaurants { " + "name " * n + "} }"}))
)
fragment_names = st.lists(st.from_regex(r"[A-Z][a-z]{0,6}", fullmatch=True), min_size=1, max_size=6, unique=True)
fragment_cycle = fragment_names.map(
    lambda names: Req("fragment-cycle", content=_body({
        "query": "query { ..." + names[0] + " } " + " ".join(
            f"fragment {n} on Query {{ restaurants {{ name }} ...{names[(i + 1) % len(names)]} }}"
            for i, n in enumerate(names)
        )
    }))
)
fragment_chain = st.integers(50, 200).map(
    lambda n: Req("fragment-chain", content=_body({
        "query": "query { ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
        + f" fragment F{n} on Query {{ restaurants {{ name }} }}"
    }))
)
wrong_variables = json_values.map(
    lambda v: Req("variables", content=_body({"query": "query ($id: ID!, $n: Int) { order(id: $id) { id } orders(first: $n) { edges { node { id } } } }",
                                              "variables": {"id": v, "n": v}}))
)
variables_not_object = json_values.filter(lambda v: not isinstance(v, dict)).map(
    lambda v: Req("variables-shape", content=_body({"query": "{ __typename }", "variables": v}))
)
unknown_operation = st.tuples(st.text(max_size=30) | json_values, st.booleans()).map(
    lambda t: Req("operation-name", content=_body({
        "query": "query A { __typename } query B { restaurants { name } }" if t[1] else "{ __typename }",
        "operationName": t[0],
    }))
)
long_strings = st.integers(10_000, 50_000).map(
    lambda n: Req("long-string", content=_body({"query": '{ order(id: "' + "x" * n + '") { id } }'}))
)
long_name = st.integers(1000, 30_000).map(
    lambda n: Req("long-name", content=_body({"query": "query " + "Q" * n + " { __typename }", "operationName": "Q" * n}))
)
payload_shapes = json_values.map(lambda v: Req("payload-shape", content=_body(v if not isinstance(v, dict) else {"query": v})))
random_queries = st.text(max_size=300).map(lambda q: Req("random-query", content=_body({"query": q})))
bad_mutations = st.tuples(st.integers(-5, 0), st.text(max_size=10)).map(
    lambda t: Req("mutation", content=_body({
        "query": "mutation ($in: PlaceOrderInput!) { placeOrder(input: $in) { id } }",
        "variables": {"in": {"customerId": "1", "restaurantId": "1", "deliveryAddress": {"street": t[1], "city": "", "postalCode": ""},
                             "items": [{"menuItemId": "1", "quantity": t[0]}]}},
    }))
)
get_garbage = st.tuples(st.text(max_size=100), st.text(max_size=50), st.booleans(), st.booleans()).map(
    lambda t: Req("get", method="GET", headers=dict(PREFLIGHT) if t[2] else {},
                  params={"query": t[0] if t[3] else "mutation { cancelOrder(id: 1) { id } }", "variables": t[1]})
)

other_methods = st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS"]).map(
    lambda m: Req("method", method=m, content=_body({"query": "{ __typename }"}))
)

bad_request = st.one_of(
    malformed_json, binary_garbage, invalid_utf8, wrong_content_type, deep_nesting, deep_lists, deep_json, alias_bomb,
    field_bomb, fragment_cycle, fragment_chain, wrong_variables, variables_not_object, unknown_operation,
    long_strings, long_name, payload_shapes, random_queries, bad_mutations, get_garbage, other_methods,
)


def check(req: Req, response: httpx.Response) -> None:
    """One answer is a GraphQL response as GraphQL over HTTP wants it."""
    where = f"{req.kind}: {response.status_code} {response.content[:300]!r}"
    assert response.status_code == 200 or 400 <= response.status_code < 500, where
    assert b"Traceback" not in response.content, where
    assert response.headers["content-type"].startswith(("application/json", "application/graphql-response+json")), where
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or "errors" in body), where
    if response.status_code != 200:
        assert body["errors"], where
    for error in body.get("errors", []):
        assert isinstance(error["message"], str) and error["message"], where
        code = error.get("extensions", {}).get("code")
        assert isinstance(code, str) and code, where  # every error says what kind it is


async def send_all(url: str, requests: list[Req]) -> list[tuple[Req, httpx.Response]]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client:

        async def one(req: Req) -> tuple[Req, httpx.Response]:
            async with semaphore:
                response = await client.request(req.method, url, headers=req.headers, content=req.content,
                                                params=req.params)
                return req, response

        return await asyncio.gather(*(one(r) for r in requests))


@settings(max_examples=BATCHES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(batch=st.lists(bad_request, min_size=BATCH, max_size=BATCH))
def test_generated_bad_requests_get_graphql_errors(fuzz_gateway, batch):
    for req, response in asyncio.run(send_all(fuzz_gateway.url, batch)):
        check(req, response)
    SENT.append(len(batch))


def test_huge_bodies_are_refused_with_413(fuzz_gateway):
    padding = "x" * 2_100_000
    requests = [Req("huge", content=_body({"query": "{ __typename }", "pad": padding})) for _ in range(12)]
    for req, response in asyncio.run(send_all(fuzz_gateway.url, requests)):
        check(req, response)
        assert response.status_code == 413
    SENT.append(len(requests))


def test_slow_clients_get_408_while_others_are_served(fuzz_gateway):
    slow = []
    for _ in range(16):
        sock = socket.create_connection(("127.0.0.1", fuzz_gateway.port), timeout=10)
        sock.sendall(b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{")
        slow.append(sock)
    try:
        ok = [Req("normal", content=_body({"query": "{ restaurants { name } }"})) for _ in range(20)]
        for _, response in asyncio.run(send_all(fuzz_gateway.url, ok)):
            assert response.status_code == 200 and response.json()["data"]["restaurants"]
        for sock in slow:
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    finally:
        for sock in slow:
            sock.close()
    SENT.append(len(slow))


def test_after_the_fuzz_the_gateway_is_alive_and_correct(fuzz_gateway):
    assert sum(SENT) >= 2000
    assert fuzz_gateway.alive()
    response = httpx.post(fuzz_gateway.url, json={"query": '{ order(id: "1") { id status } }'})
    assert response.json() == {"data": {"order": {"id": "1", "status": "APPROVED"}}}
    assert "Traceback" not in fuzz_gateway.log()
