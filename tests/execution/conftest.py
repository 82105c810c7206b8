"""Fixtures for executor tests: three small ariadne subgraphs served by real uvicorn servers.

products owns Product(upc, name, price, weight, category); inventory adds inStock and
shippingEstimate @requires(price weight); reviews adds Product.reviews and owns Review and User.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import uvicorn
from ariadne import QueryType, graphql
from ariadne.contrib.federation import FederatedObjectType, make_federated_schema
from graphql import GraphQLSchema, build_schema, is_abstract_type
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

API_SDL = """
type Query {
  topProducts(first: Int = 5): [Product!]!
  product(upc: String!): Product
}
enum Category { BOOK TOY }
type Product {
  upc: String!
  name: String
  price: Int
  weight: Int
  category: Category
  inStock: Boolean
  shippingEstimate: Int
  reviews: [Review!]!
}
type Review { id: ID! body: String author: User! }
type User { id: ID! username: String! }
"""


@dataclass
class FakeSupergraph:
    """The parts of gateway.supergraph.Supergraph that execution uses, built from an API SDL."""

    api_schema: GraphQLSchema
    subgraph_urls: dict[str, str]
    extra_possible: dict[str, set[str]] = field(default_factory=dict)

    def possible_types(self, type_name: str) -> frozenset[str]:
        t = self.api_schema.get_type(type_name)
        names = set(self.extra_possible.get(type_name, ()))
        if t is not None and is_abstract_type(t):
            names |= {o.name for o in self.api_schema.get_possible_types(t)}  # type: ignore[arg-type]
        elif t is not None:
            names.add(type_name)
        return frozenset(names)

    def satisfies(self, typename: str, condition: str) -> bool:
        return typename == condition or typename in self.possible_types(condition)


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server thread died")
            threading.Event().wait(0.01)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/graphql"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@dataclass
class Subgraph:
    """A running subgraph and the request bodies it received."""

    name: str
    url: str
    requests: list[dict[str, Any]]


def graphql_app(schema: GraphQLSchema, requests: list[dict[str, Any]], delay: float = 0.0) -> Starlette:
    async def handle(request: Request) -> Response:
        body = orjson.loads(await request.body())
        requests.append(body)
        if delay:
            await asyncio.sleep(delay)
        _, result = await graphql(schema, body)
        return Response(orjson.dumps(result), media_type="application/json")

    return Starlette(routes=[Route("/graphql", handle, methods=["POST"])])


PRODUCTS = {
    "1": {"upc": "1", "name": "Table", "price": 899, "weight": 100, "category": "TOY"},
    "2": {"upc": "2", "name": "Couch", "price": 1299, "weight": 1000, "category": "BOOK"},
    "3": {"upc": "3", "name": "Chair", "price": 54, "weight": 50, "category": "SECRET"},
}
REVIEWS = {
    "1": [{"id": "r1", "body": "Love it!", "author": "u1"}, {"id": "r2", "body": "Too expensive.", "author": "u2"}],
    "2": [{"id": "r3", "body": "Could be better.", "author": "u1"}, {"id": "r4", "body": None, "author": "u2"}],
    "3": [],
}
USERS = {"u1": {"id": "u1", "username": "ada"}, "u2": {"id": "u2", "username": "grace"}}


def products_schema() -> GraphQLSchema:
    sdl = """
    type Query { topProducts(first: Int = 5): [Product!]! product(upc: String!): Product }
    enum Category { BOOK TOY SECRET }
    type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int category: Category }
    """
    query = QueryType()
    query.set_field("topProducts", lambda _, info, first=5: list(PRODUCTS.values())[:first])
    query.set_field("product", lambda _, info, upc: PRODUCTS.get(upc))
    product = FederatedObjectType("Product")
    product.reference_resolver(lambda _, info, rep: PRODUCTS.get(rep["upc"]))
    return make_federated_schema(sdl, [query, product])


def inventory_schema() -> GraphQLSchema:
    sdl = """
    type Product @key(fields: "upc") {
      upc: String! @external
      price: Int @external
      weight: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }
    """
    product = FederatedObjectType("Product")

    @product.reference_resolver
    def resolve(_: Any, info: Any, rep: dict[str, Any]) -> dict[str, Any]:
        return dict(rep)

    product.set_field("inStock", lambda obj, info: obj["upc"] != "2")

    @product.field("shippingEstimate")
    def shipping(obj: dict[str, Any], info: Any) -> int:
        if "price" not in obj or "weight" not in obj:
            raise ValueError("shippingEstimate needs price and weight")
        return obj["price"] * obj["weight"] // 1000

    return make_federated_schema(sdl, [product])


def reviews_schema() -> GraphQLSchema:
    sdl = """
    type Review { id: ID! body: String author: User! }
    type User @key(fields: "id") { id: ID! username: String! }
    type Product @key(fields: "upc") { upc: String! @external reviews: [Review!]! }
    """
    product = FederatedObjectType("Product")
    product.reference_resolver(lambda _, info, rep: {"upc": rep["upc"]})
    product.set_field("reviews", lambda obj, info: REVIEWS.get(obj["upc"], []))
    review = FederatedObjectType("Review")

    @review.field("body")
    def body(obj: dict[str, Any], info: Any) -> str:
        if obj["body"] is None:
            raise ValueError("review body unavailable")
        return obj["body"]

    review.set_field("author", lambda obj, info: USERS[obj["author"]])
    user = FederatedObjectType("User")
    user.reference_resolver(lambda _, info, rep: USERS.get(rep["id"]))
    return make_federated_schema(sdl, [product, review, user])


@pytest.fixture(scope="session")
def subgraphs() -> Iterator[dict[str, Subgraph]]:
    """products, inventory and reviews, each on its own port."""
    running: dict[str, Subgraph] = {}
    servers: list[ServerThread] = []
    try:
        for name, schema in (
            ("products", products_schema()),
            ("inventory", inventory_schema()),
            ("reviews", reviews_schema()),
        ):
            requests: list[dict[str, Any]] = []
            server = ServerThread(graphql_app(schema, requests)).__enter__()
            servers.append(server)
            running[name] = Subgraph(name, server.url, requests)
        yield running
    finally:
        for server in servers:
            server.__exit__()


@pytest.fixture
def supergraph(subgraphs: dict[str, Subgraph]) -> FakeSupergraph:
    for sg in subgraphs.values():
        sg.requests.clear()
    return FakeSupergraph(build_schema(API_SDL), {name: sg.url for name, sg in subgraphs.items()})
