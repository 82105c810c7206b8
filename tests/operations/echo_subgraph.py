"""A tiny subgraph for the operations/security tests: it shows the headers it received, has fields the
supergraph protects with @authenticated / @requiresScopes, and one that fails like a careless server.

Run: python tests/operations/echo_subgraph.py --port N
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn
from graphql import build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SDL = """
type Query {
  headers: [Header!]!
  public: String
  secret: String
  admin: String
  items: [Item!]!
  maybeItems: [Item]!
  profile: Profile
  boom: String
}
type Header { name: String! value: String! }
type Item { id: ID! owner: String code: String! }
type Profile { name: String! }
"""

SCHEMA = build_schema(SDL)


async def handle(request: Request) -> Response:
    if request.method == "GET":
        return Response(b'{"status":"pass"}', media_type="application/json")
    body = orjson.loads(await request.body())
    root: dict[str, Any] = {
        "headers": [{"name": k, "value": v} for k, v in request.headers.items()],
        "public": "public",
        "secret": "secret",
        "admin": "admin",
        "items": [{"id": "1", "owner": "ann", "code": "A"}, {"id": "2", "owner": "bob", "code": "B"}],
        "maybeItems": [{"id": "1", "owner": "ann", "code": "A"}, {"id": "2", "owner": "bob", "code": "B"}],
        "profile": {"name": "Ann"},
        "boom": None,
    }
    result = await graphql(SCHEMA, body["query"], root, variable_values=body.get("variables"))
    out: dict[str, Any] = {"data": result.data}
    if "boom" in body["query"]:
        out["errors"] = [
            {
                "message": "upstream http://inventory.internal:8080/v1/stock failed\nTraceback (most recent call last):\n"
                '  File "/srv/app.py", line 3, in boom',
                "path": ["boom"],
                "extensions": {
                    "code": "INTERNAL_ERROR",
                    "stacktrace": ["Traceback (most recent call last):", '  File "/srv/app.py"'],
                    "exception": {"type": "ConnectionError"},
                    "hint": "see https://status.internal/",
                },
            }
        ]
    return Response(orjson.dumps(out), media_type="application/json")


app = Starlette(routes=[Route("/graphql", handle, methods=["POST"]), Route("/health", handle, methods=["GET"])])

SUPERGRAPH = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
{
  query: Query
}

directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

scalar join__FieldSet

enum join__Graph {
  ECHO @join__graph(name: "echo", url: "ECHO_URL")
}

scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}

scalar requiresScopes__Scope

type Header @join__type(graph: ECHO) {
  name: String!
  value: String!
}

type Item @join__type(graph: ECHO) {
  id: ID!
  owner: String @authenticated
  code: String! @authenticated
}

type Profile @join__type(graph: ECHO) @requiresScopes(scopes: [["profile:read"], ["admin"]]) {
  name: String!
}

type Query @join__type(graph: ECHO) {
  headers: [Header!]!
  public: String
  secret: String @authenticated
  admin: String @requiresScopes(scopes: [["admin", "write"]])
  items: [Item!]!
  maybeItems: [Item]!
  profile: Profile
  boom: String
}
"""


def supergraph(url: str) -> str:
    """The supergraph SDL with this subgraph at `url`."""
    return SUPERGRAPH.replace("ECHO_URL", url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
