"""Two subgraphs that use `@context`/`@fromContext`, served on loopback for tests/execution/test_from_context.py
and for recording Apollo Gateway's answers (tests/fixtures/context/record.py).

`accounts` owns users (name, locale); `orders` sets two contexts on User, whose fields it marks
`@external`, so the context values come from the other subgraph, and reaches them through lists:
`users { orders { summary } }`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ariadne import QueryType
from ariadne.contrib.federation import FederatedObjectType, make_federated_schema
from shop import ServerThread, Subgraph, graphql_app

ACCOUNTS_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key"])
type Query { users: [User!]! user(id: ID!): User }
type User @key(fields: "id") { id: ID! name: String! locale: String }
"""

ORDERS_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.8",
  import: ["@key", "@context", "@fromContext", "@external"])
type User @key(fields: "id") @context(name: "userCtx") @context(name: "nameCtx") {
  id: ID!
  name: String! @external
  locale: String @external
  orders: [Order!]!
}
type Order @key(fields: "id") {
  id: ID!
  summary(locale: String @fromContext(field: "$userCtx { locale }")): String!
  label(locale: String @fromContext(field: "$userCtx { locale }"), who: String @fromContext(field: "$nameCtx { name }")): String!
}
"""

USERS = {
    "u1": {"id": "u1", "name": "Ada", "locale": "en"},
    "u2": {"id": "u2", "name": "Grace", "locale": "fr"},
    "u3": {"id": "u3", "name": "Alan", "locale": None},
}
ORDERS = {"u1": ["o1", "o2"], "u2": ["o3"], "u3": ["o4"]}


def accounts_schema() -> Any:
    query = QueryType()
    query.set_field("users", lambda *_: list(USERS.values()))
    query.set_field("user", lambda _, info, id: USERS.get(id))
    user = FederatedObjectType("User")
    user.reference_resolver(lambda _, info, rep: USERS.get(rep["id"]))
    sdl = "type Query { users: [User!]! user(id: ID!): User }\ntype User @key(fields: \"id\") { id: ID! name: String! locale: String }"
    return make_federated_schema(sdl, [query, user])


def orders_schema() -> Any:
    # The executable schema: what the subgraph serves, context arguments as plain arguments.
    sdl = """
    type Query { order(id: ID!): Order }
    type User @key(fields: "id") { id: ID! orders: [Order!]! }
    type Order @key(fields: "id") { id: ID! summary(locale: String): String! label(locale: String, who: String): String! }
    """
    query = QueryType()
    query.set_field("order", lambda _, info, id: {"id": id})
    user = FederatedObjectType("User")
    user.reference_resolver(lambda _, info, rep: {"id": rep["id"]})
    user.set_field("orders", lambda obj, info: [{"id": o} for o in ORDERS.get(obj["id"], [])])
    order = FederatedObjectType("Order")
    order.reference_resolver(lambda _, info, rep: {"id": rep["id"]})
    order.set_field("summary", lambda obj, info, locale=None: f"order {obj['id']} in {locale}")
    order.set_field("label", lambda obj, info, locale=None, who=None: f"{who}/{obj['id']}/{locale}")
    return make_federated_schema(sdl, [query, user, order])


@contextlib.contextmanager
def running_context_subgraphs() -> Iterator[dict[str, Subgraph]]:
    """accounts and orders on loopback ports, with the requests each received."""
    with contextlib.ExitStack() as stack:
        out: dict[str, Subgraph] = {}
        for name, schema in (("accounts", accounts_schema()), ("orders", orders_schema())):
            requests: list[dict[str, Any]] = []
            server = stack.enter_context(ServerThread(graphql_app(schema, requests)))
            out[name] = Subgraph(name, server.url, requests)
        yield out


SDLS = {"accounts": ACCOUNTS_SDL, "orders": ORDERS_SDL}

CASES = {
    # a context set by an entity reached through a list, its value from another subgraph
    "list_other_subgraph": "{ users { name orders { id summary } } }",
    # two contexts in one field
    "two_contexts": "{ users { orders { label } } }",
    # the context field not selected by the client, one user
    "one_user": '{ user(id: "u2") { orders { summary label } } }',
    # a null context value
    "null_value": '{ user(id: "u3") { orders { summary } } }',
}
