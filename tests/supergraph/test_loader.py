"""Loading supergraph SDL: the API schema clients see, the join metadata, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import print_schema

from gateway.supergraph import SupergraphError, load_supergraph

FIXTURES = Path(__file__).parent.parent / "fixtures"
SHOP = (FIXTURES / "planning" / "shop" / "supergraph.graphql").read_text()
CATALOG = (FIXTURES / "planning" / "catalog" / "supergraph.graphql").read_text()


def test_api_schema_hides_machinery_and_inaccessible() -> None:
    sg = load_supergraph(SHOP)
    api = print_schema(sg.api_schema)
    assert "join__" not in api and "link__" not in api and "@link" not in api
    assert "cost" not in api  # Product.cost is @inaccessible
    assert "cost" in sg.full_schema.get_type("Product").fields  # planning still sees it
    assert set(sg.subgraph_urls) == {"accounts", "inventory", "products", "reviews"}


def test_join_metadata() -> None:
    sg = load_supergraph(SHOP)
    product = sg.types["Product"]
    assert sorted(jt.key for jt in product.keys_in("products")) == ["sku", "upc"]
    assert [jt.key for jt in product.keys_in("inventory")] == ["upc"]
    estimate = product.fields["shippingEstimate"]
    assert estimate.resolvable_in == {"inventory"}
    assert "inventory" in estimate.requires
    price = product.fields["price"]
    assert price.available_in == {"products", "inventory"}
    assert price.resolvable_in == {"products"}  # external in inventory
    username = sg.types["User"].fields["username"]
    assert username.resolvable_in == {"accounts"}


def test_override_and_interface_object() -> None:
    sg = load_supergraph(CATALOG)
    duration = sg.types["Movie"].fields["duration"]
    assert duration.resolvable_in == {"c"}  # @override(from: "a")
    assert sg.types["Media"].interface_object_in == {"b"}
    assert sg.possible_types("Media") == {"Book", "Movie"}
    assert sg.possible_types_in("SearchResult", "a") == {"Book", "Movie"}
    assert sg.satisfies("Book", "Media") and not sg.satisfies("Book", "Movie")


def test_federation_1_supergraph_loads() -> None:
    sg = load_supergraph((FIXTURES / "fed1_supergraph.graphql").read_text())
    assert sg.join_version == (0, 1)
    upc = sg.types["Product"].fields["upc"]
    assert upc.resolvable_in == {"products", "reviews"}  # key fields live wherever the key does
    assert sg.types["Product"].fields["name"].resolvable_in == {"products"}


@pytest.mark.parametrize(
    ("sdl", "code", "words"),
    [
        ("type Query {", "SUPERGRAPH_INVALID", "does not parse"),
        ("type Query { a: Int }", "SUPERGRAPH_INVALID", "not a supergraph"),
        (SHOP.replace("join/v0.3", "join/v0.9"), "SUPERGRAPH_UNSUPPORTED", "v0.9"),
        (SHOP.replace("@join__type(graph: PRODUCTS, key: \"sku\")", "@join__type(graph: NOPE)"),
         "SUPERGRAPH_INVALID", "unknown subgraph"),
    ],
)
def test_broken_supergraphs_are_refused_clearly(sdl: str, code: str, words: str) -> None:
    with pytest.raises(SupergraphError) as info:
        load_supergraph(sdl)
    assert info.value.code == code
    assert words in info.value.message
