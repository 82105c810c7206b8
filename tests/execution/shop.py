"""A small shop of three ariadne subgraphs served by real uvicorn servers, and its supergraph.

products owns Product(upc, name, price, weight, category); inventory adds inStock and
shippingEstimate @requires(price weight); reviews adds Product.reviews and owns Review and User.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from ariadne import MutationType, QueryType, graphql
from ariadne.contrib.federation import FederatedObjectType, make_federated_schema
from graphql import GraphQLSchema, is_abstract_type
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
type Mutation { createProduct(name: String!): Product }
type Review { id: ID! body: String author: User! }
type User { id: ID! username: String! }
"""


SUPERGRAPH_SDL = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
{
  query: Query
  mutation: Mutation
}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet

enum join__Graph {
  INVENTORY @join__graph(name: "inventory", url: "{inventory}")
  PRODUCTS @join__graph(name: "products", url: "{products}")
  REVIEWS @join__graph(name: "reviews", url: "{reviews}")
}

scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}

enum Category @join__type(graph: PRODUCTS) {
  BOOK @join__enumValue(graph: PRODUCTS)
  TOY @join__enumValue(graph: PRODUCTS)
  SECRET @join__enumValue(graph: PRODUCTS) @inaccessible
}

type Product
  @join__type(graph: INVENTORY, key: "upc")
  @join__type(graph: PRODUCTS, key: "upc")
  @join__type(graph: REVIEWS, key: "upc")
{
  upc: String!
  name: String @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  weight: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)
  category: Category @join__field(graph: PRODUCTS)
  inStock: Boolean @join__field(graph: INVENTORY)
  shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")
  reviews: [Review!]! @join__field(graph: REVIEWS)
}

type Query
  @join__type(graph: INVENTORY)
  @join__type(graph: PRODUCTS)
  @join__type(graph: REVIEWS)
{
  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS)
  product(upc: String!): Product @join__field(graph: PRODUCTS)
}

type Mutation
  @join__type(graph: PRODUCTS)
{
  createProduct(name: String!): Product @join__field(graph: PRODUCTS)
}

type Review
  @join__type(graph: REVIEWS)
{
  id: ID!
  body: String
  author: User!
}

type User
  @join__type(graph: REVIEWS, key: "id")
{
  id: ID!
  username: String!
}
"""


def supergraph_sdl(urls: dict[str, str]) -> str:
    """SUPERGRAPH_SDL pointing at the running subgraphs."""
    sdl = SUPERGRAPH_SDL
    for name, url in urls.items():
        sdl = sdl.replace("{" + name + "}", url)
    return sdl


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

    def __init__(self, app: Any, lifespan: str = "off") -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run `coro` on the server's own event loop (as its routes and lifespan do) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

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
    type Mutation { createProduct(name: String!): Product }
    enum Category { BOOK TOY SECRET }
    type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int category: Category }
    """
    query = QueryType()
    query.set_field("topProducts", lambda _, info, first=5: list(PRODUCTS.values())[:first])
    query.set_field("product", lambda _, info, upc: PRODUCTS.get(upc))
    mutation = MutationType()
    mutation.set_field(
        "createProduct", lambda _, info, name: {"upc": "new", "name": name, "price": 1, "weight": 1, "category": "TOY"}
    )
    product = FederatedObjectType("Product")
    product.reference_resolver(lambda _, info, rep: PRODUCTS.get(rep["upc"]))
    return make_federated_schema(sdl, [query, mutation, product])


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


@contextlib.contextmanager
def running_shop() -> Iterator[dict[str, Subgraph]]:
    """products, inventory and reviews, each on its own loopback port."""
    running: dict[str, Subgraph] = {}
    with contextlib.ExitStack() as stack:
        for name, schema in (
            ("products", products_schema()),
            ("inventory", inventory_schema()),
            ("reviews", reviews_schema()),
        ):
            requests: list[dict[str, Any]] = []
            server = stack.enter_context(ServerThread(graphql_app(schema, requests)))
            running[name] = Subgraph(name, server.url, requests)
        yield running
