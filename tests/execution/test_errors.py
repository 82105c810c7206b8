"""Subgraph errors and failures as the client sees them: paths, serviceName, partial data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from graphql import build_schema, parse
from plan_helpers import entity_fetch, fields, raw_transport
from shop import API_SDL, FakeSupergraph, ServerThread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.config import SubgraphTrafficConfig, TrafficShapingConfig
from gateway.execution import Executor, coerce_variables
from gateway.planning.nodes import LIST, FetchNode, FlattenNode, QueryPlan, SequenceNode
from gateway.server.preparation import prepare_operation
from gateway.transport import FetchRequest, NativeClient, SubgraphResponse


class ScriptedTransport:
    """Answers each subgraph from a script; records the bodies sent."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def fetch(self, fetch: FetchRequest) -> SubgraphResponse:
        subgraph_name, body = fetch.subgraph, fetch.body
        self.sent.append((subgraph_name, orjson.loads(body)))
        return SubgraphResponse(200, self.answers[subgraph_name])


PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("products", "{topProducts{__typename upc name}}"),
            FlattenNode(("topProducts", LIST), entity_fetch("reviews", "Product", fields("upc"), "reviews{body}")),
        )
    )
)
QUERY = "{ topProducts { name reviews { body } } }"


SCHEMA = build_schema(
    """
    type Query { topProducts: [Product] }
    type Product { upc: String! name: String reviews: [Review!]! }
    type Review { body: String }
    """
)


async def run(transport: Any, plan: QueryPlan = PLAN, query: str = QUERY) -> dict[str, Any]:
    supergraph = FakeSupergraph(SCHEMA, {"products": "http://p", "reviews": "http://r"})
    prepared = prepare_operation(supergraph, parse(query), None, lambda *_: plan)
    return await Executor(supergraph, transport).execute(prepared, coerce_variables(supergraph.api_schema, prepared.operation, None))


async def test_entity_error_maps_to_every_entity_sharing_the_representation():
    transport = ScriptedTransport(
        {
            "products": {
                "data": {
                    "topProducts": [
                        {"__typename": "Product", "upc": "1", "name": "A"},
                        {"__typename": "Product", "name": "no key"},
                        {"__typename": "Product", "upc": "2", "name": "B"},
                        {"__typename": "Product", "upc": "1", "name": "A again"},
                    ]
                }
            },
            "reviews": {
                "data": {"_entities": [{"reviews": [{"body": "ok"}]}, {"reviews": [{"body": None}]}]},
                "errors": [
                    {"message": "bad body", "path": ["_entities", 1, "reviews", 0, "body"], "extensions": {"code": "E1"}},
                    {"message": "for the first", "path": ["_entities", 0]},
                    {"message": "no path"},
                ],
            },
        }
    )
    result = await run(transport)
    # The entity without its key got no representation; the two "1"s share one.
    [(_, sent)] = [s for s in transport.sent if s[0] == "reviews"]
    assert sent["variables"]["representations"] == [
        {"__typename": "Product", "upc": "1"},
        {"__typename": "Product", "upc": "2"},
    ]
    assert result["data"] == {
        "topProducts": [
            {"name": "A", "reviews": [{"body": "ok"}]},
            None,
            {"name": "B", "reviews": [{"body": None}]},
            {"name": "A again", "reviews": [{"body": "ok"}]},
        ]
    }
    errors = result["errors"]
    assert errors[0] == {
        "message": "bad body",
        "path": ["topProducts", 2, "reviews", 0, "body"],
        "extensions": {"code": "E1", "serviceName": "reviews"},
    }
    assert [e["path"] for e in errors[1:3]] == [["topProducts", 0], ["topProducts", 3]]
    assert "path" not in errors[3] and errors[3]["extensions"]["serviceName"] == "reviews"
    # `reviews` is non-null: the entity without a key gets the null error, the others do not.
    assert errors[4]["path"] == ["topProducts", 1, "reviews"]
    assert len(errors) == 5


async def test_wrong_number_of_entities_is_a_fetch_error():
    transport = ScriptedTransport(
        {
            "products": {"data": {"topProducts": [{"__typename": "Product", "upc": "1", "name": "A"}]}},
            "reviews": {"data": {"_entities": []}},
        }
    )
    result = await run(transport)
    assert result["data"] == {"topProducts": [None]}
    assert result["errors"][0]["extensions"]["serviceName"] == "reviews"


async def test_root_error_keeps_its_path_and_not_a_graphql_response_is_an_error():
    transport = ScriptedTransport(
        {
            "products": {
                "data": {"topProducts": [{"__typename": "Product", "upc": "1", "name": None}]},
                "errors": [{"message": "name failed", "path": ["topProducts", 0, "name"], "locations": [{"line": 1, "column": 2}]}],
            },
            "reviews": ["not", "graphql"],
        }
    )
    result = await run(transport)
    assert result["errors"][0] == {
        "message": "name failed",
        "locations": [{"line": 1, "column": 2}],
        "path": ["topProducts", 0, "name"],
        "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "products"},
    }
    assert result["errors"][1]["extensions"] == {"code": "SUBGRAPH_REQUEST_FAILED", "serviceName": "reviews"}


def misbehaving_app() -> Starlette:
    async def status500(request: Request) -> Response:
        return Response("oops", status_code=500)

    async def not_json(request: Request) -> Response:
        return Response("<html>", status_code=200)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(2)
        return Response(b'{"data":{}}', media_type="application/json")

    async def graphql_500(request: Request) -> Response:
        return Response(b'{"errors":[{"message":"down"}]}', status_code=503, media_type="application/json")

    async def chunked(request: Request) -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b'{"data":{"topProducts":[{"name":', b'"Streamed"}]}', b"}"):
                yield part
                await asyncio.sleep(0.01)

        return StreamingResponse(parts(), media_type="application/json")

    async def close(request: Request) -> Response:
        return Response(b'{"data":{"topProducts":[{"name":"Closed"}]}}', headers={"connection": "close"})

    return Starlette(
        routes=[
            Route("/500", status500, methods=["POST"]),
            Route("/html", not_json, methods=["POST"]),
            Route("/slow", slow, methods=["POST"]),
            Route("/graphql503", graphql_500, methods=["POST"]),
            Route("/chunked", chunked, methods=["POST"]),
            Route("/close", close, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def misbehaving_base():
    with ServerThread(misbehaving_app()) as server:
        yield server.url.removesuffix("/graphql")


async def fetch_top(base: str, route: str, client: str) -> dict[str, Any]:
    traffic = TrafficShapingConfig(client=client, subgraphs={"products": SubgraphTrafficConfig(timeout=0.3)})  # type: ignore[arg-type]
    transport = raw_transport(traffic)
    try:
        supergraph = FakeSupergraph(build_schema(API_SDL), {"products": base + route})
        plan = QueryPlan(FetchNode("products", "{topProducts{name}}"))
        prepared = prepare_operation(supergraph, parse("{ topProducts { name } }"), None, lambda *_: plan)
        executor = Executor(supergraph, transport)
        results = [await executor.execute(prepared, {}) for _ in range(3)]  # reuses pooled connections
    finally:
        await transport.aclose()
    assert results[0] == results[1] == results[2]
    return results[0]


@pytest.mark.parametrize("client", ["httpx", "native"])
@pytest.mark.parametrize(
    ("route", "needle"),
    [("/500", "500"), ("/html", "invalid JSON"), ("/slow", "timed out"), ("/graphql503", "down"), ("/missing", "404")],
)
async def test_transport_failures_become_errors_for_that_fetch(misbehaving_base, route, needle, client):
    result = await fetch_top(misbehaving_base, route, client)
    assert result["data"] is None
    assert needle in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["serviceName"] == "products"


@pytest.mark.parametrize("client", ["httpx", "native"])
@pytest.mark.parametrize(("route", "name"), [("/chunked", "Streamed"), ("/close", "Closed")])
async def test_response_framings(misbehaving_base, route, name, client):
    result = await fetch_top(misbehaving_base, route, client)
    assert result == {"data": {"topProducts": [{"name": name}]}}


async def test_native_client_retries_a_keep_alive_connection_the_server_closed(misbehaving_base):
    transport = NativeClient()
    try:
        url = misbehaving_base + "/graphql503"
        first = await transport.fetch(FetchRequest("s", url, b"{}"))
        [origin] = transport._origins.values()
        [conn] = origin.idle
        conn.transport.abort()  # as if the server dropped the idle connection
        await asyncio.sleep(0.01)
        assert await transport.fetch(FetchRequest("s", url, b"{}")) == first
        # A connection that dies between our check and our write is retried too.
        [conn] = origin.idle
        conn.closed = False
        conn.transport.abort()
        assert await transport.fetch(FetchRequest("s", url, b"{}")) == first
    finally:
        await transport.aclose()


async def test_native_client_reports_status_and_refuses_header_injection(misbehaving_base):
    from gateway.transport import TransportError

    transport = NativeClient()
    try:
        with pytest.raises(TransportError) as info:
            await transport.fetch(FetchRequest("s", misbehaving_base + "/500", b"{}"))
        assert info.value.status == 500
        with pytest.raises(TransportError):
            await transport.fetch(FetchRequest("s", misbehaving_base + "/graphql503", b"{}", headers={"x-a": "1\r\nx-b: 2"}))
    finally:
        await transport.aclose()
