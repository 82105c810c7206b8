"""Federation directives under any name a subgraph may give them (`import: [{name, as}]` renames and the
`federation__` prefixed defaults) mean the same thing in composition, serving and authorization.

The leak this guards against: a subgraph importing only `@key` and hiding a field with
`@federation__inaccessible` composed into a supergraph whose `@inaccessible` was renamed by `import`,
which the loader did not read, so the hidden field was served to every client.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ariadne import QueryType, make_executable_schema
from graphql import print_schema

from gateway.composition import SubgraphInput, api_schema, compose
from gateway.config import GatewayConfig
from gateway.planning import build_query_plan
from gateway.planning.nodes import print_plan
from gateway.server import create_app
from gateway.server.auth import read_requirements
from gateway.supergraph import Supergraph, load_supergraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "execution"))

from shop import ServerThread, graphql_app  # noqa: E402

# Every federation directive these subgraphs use, by its name in the federation spec.
DIRECTIVES = (
    "key", "external", "requires", "provides", "shareable", "override", "inaccessible", "tag",
    "interfaceObject", "authenticated", "requiresScopes",
)

PRODUCTS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: [{imports}])
type Query {{ products: [Product!]! secretCount: Int @{inaccessible} }}
type Product @{key}(fields: "id") {{
  id: ID!
  name: String @{shareable} @{tag}(name: "public")
  weight: Int
  stock: Int
  secret: String @{inaccessible}
  vip: String @{authenticated}
  margin: Int @{requiresScopes}(scopes: [["admin"]])
}}
interface Media @{key}(fields: "id") {{ id: ID! title: String }}
type Book implements Media @{key}(fields: "id") {{ id: ID! title: String }}
"""

REVIEWS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: [{imports}])
type Query {{ topReviews: [Review!]! }}
type Review {{ body: String product: Product @{provides}(fields: "name") }}
type Product @{key}(fields: "id") {{
  id: ID!
  name: String @{external}
  weight: Int @{external}
  shippingEstimate: Int @{requires}(fields: "weight")
  stock: Int @{override}(from: "products")
}}
type Media @{key}(fields: "id") @{interfaceObject} {{ id: ID! rating: Int }}
"""

# How each variant names directive `d` and what its @link imports.
VARIANTS: dict[str, tuple[Any, str]] = {
    "imported": (lambda d: d, ", ".join(f'"@{d}"' for d in DIRECTIVES)),
    "renamed": (
        lambda d: f"my{d[0].upper()}{d[1:]}",
        ", ".join(f'{{name: "@{d}", as: "@my{d[0].upper()}{d[1:]}"}}' for d in DIRECTIVES),
    ),
    # Only @key imported, as in the issue: the others by their prefixed default names.
    "prefixed": (lambda d: d if d == "key" else f"federation__{d}", '"@key"'),
}


def _subgraphs(variant: str, urls: dict[str, str] | None = None) -> list[SubgraphInput]:
    name, imports = VARIANTS[variant]
    values = {d: name(d) for d in DIRECTIVES} | {"imports": imports}
    urls = urls or {"products": "http://products", "reviews": "http://reviews"}
    return [
        SubgraphInput("products", urls["products"], PRODUCTS.format(**values)),
        SubgraphInput("reviews", urls["reviews"], REVIEWS.format(**values)),
    ]


def _compose(variant: str, urls: dict[str, str] | None = None) -> str:
    result = compose(_subgraphs(variant, urls))
    assert not result.errors, [e.message for e in result.errors]
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


def _plan(supergraph: Supergraph, query: str) -> str:
    from graphql import parse

    document = parse(query)
    return print_plan(build_query_plan(supergraph, document, None))


QUERY_PLANNED = """{
  products { name shippingEstimate stock }
  topReviews { product { name } }
}"""


@pytest.mark.parametrize("variant", ["renamed", "prefixed"])
def test_composition_reads_every_directive_under_its_local_name(variant: str) -> None:
    reference = load_supergraph(_compose("imported"))
    other = load_supergraph(_compose(variant))
    assert print_schema(other.api_schema) == print_schema(reference.api_schema)
    # Keys, @requires, @provides, @override, @interfaceObject: the same routing, so the same plan.
    assert _plan(other, QUERY_PLANNED) == _plan(reference, QUERY_PLANNED)
    assert other.types["Media"].interface_object_in == {"reviews"}
    assert other.types["Product"].fields["stock"].resolvable_in == {"reviews"}


@pytest.mark.parametrize("variant", ["imported", "renamed", "prefixed"])
def test_api_schema_hides_inaccessible_and_machinery(variant: str) -> None:
    sdl = _compose(variant)
    served = print_schema(load_supergraph(sdl).api_schema)
    assert served == print_schema(api_schema(sdl))  # `fedgate check` and serving see one API schema
    assert "secret" not in served and "secretCount" not in served
    assert "inaccessible" not in served.lower() and "tag" not in served.lower()
    assert "authenticated" not in served.lower() and "requiresScopes" not in served


@pytest.mark.parametrize("variant", ["imported", "renamed", "prefixed"])
def test_authorization_reads_every_name(variant: str) -> None:
    _, fields = read_requirements(_compose(variant))
    assert fields[("Product", "vip")].authenticated
    assert fields[("Product", "margin")].scopes == (frozenset({"admin"}),)


def test_authorization_reads_import_renames_in_a_supergraph() -> None:
    """A supergraph from another composer may import the access-control directives under other names."""
    sdl = _compose("imported").replace("@authenticated", "@signedIn").replace(
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", import: [{name: "@authenticated", as: "@signedIn"}],'
        " for: SECURITY)",
    )
    assert 'as: "@signedIn"' in sdl
    _, fields = read_requirements(sdl)
    assert fields[("Product", "vip")].authenticated


def _products_subgraph() -> Any:
    query = QueryType()
    query.set_field("products", lambda *_: [{"id": "1", "name": "Lamp", "vip": "gold", "margin": 3, "secret": "x"}])
    schema = make_executable_schema(
        "type Query { products: [Product!]! secretCount: Int }"
        " type Product { id: ID! name: String weight: Int stock: Int secret: String vip: String margin: Int }",
        query,
    )
    return graphql_app(schema, [])


@pytest.fixture(scope="module")
def products_url() -> Iterator[str]:
    with ServerThread(_products_subgraph()) as server:
        yield server.url


def _post(sdl: str, query: str) -> httpx.Response:
    app = create_app(load_supergraph(sdl), GatewayConfig())

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            # graphql-response+json: request errors answer 4xx (plain JSON answers them with 200).
            headers = {"accept": "application/graphql-response+json"}
            return await client.post("/graphql", json={"query": query}, headers=headers)

    import asyncio

    return asyncio.run(go())


@pytest.mark.parametrize("variant", ["imported", "renamed", "prefixed"])
def test_served_gateway_refuses_inaccessible_fields(variant: str, products_url: str) -> None:
    sdl = _compose(variant, {"products": products_url, "reviews": "http://127.0.0.1:9/graphql"})
    for query in ("{ products { secret } }", "{ secretCount }"):
        answer = _post(sdl, query)
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_issue_leak_only_key_imported() -> None:
    """The case from the issue, alone: one subgraph, `@key` imported, `@federation__inaccessible` used."""
    sdl = compose([SubgraphInput("a", "http://a", """
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Query { product: Product }
        type Product @key(fields: "id") { id: ID! name: String secret: String @federation__inaccessible }
    """)]).supergraph_sdl
    assert sdl is not None
    answer = _post(sdl, "{ product { secret } }")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("variant", ["imported", "renamed", "prefixed"])
def test_served_gateway_enforces_access_control_under_every_name(variant: str, products_url: str) -> None:
    sdl = _compose(variant, {"products": products_url, "reviews": "http://127.0.0.1:9/graphql"})
    body = _post(sdl, "{ products { name vip margin } }").json()
    assert body["data"] == {"products": [{"name": "Lamp", "vip": None, "margin": None}]}
    codes = {(tuple(e["path"]), e["extensions"]["code"]) for e in body["errors"]}
    assert codes == {
        (("products", "@", "vip"), "UNAUTHORIZED_FIELD_OR_TYPE"),
        (("products", "@", "margin"), "UNAUTHORIZED_FIELD_OR_TYPE"),
    }


def test_filtered_operations_are_not_parsed_again(products_url: str) -> None:
    """Removing refused fields works on the prepared document: no printed query to parse a second time."""
    import asyncio

    sdl = _compose("prefixed", {"products": products_url, "reviews": "http://127.0.0.1:9/graphql"})
    app = create_app(load_supergraph(sdl), GatewayConfig())

    async def go() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return [
                (await client.post("/graphql", json={"query": "{ products { name vip } }"})).json() for _ in range(3)
            ]

    answers = asyncio.run(go())
    assert all(a["data"] == {"products": [{"name": "Lamp", "vip": None}]} for a in answers)
    assert app.state.gateway.pipeline.preparation.parses == 1
