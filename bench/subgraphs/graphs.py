"""The four subgraphs' data and resolvers, mirroring the Rust subgraphs of The Guild's benchmark.

The data (data.json) is theirs, extracted once. Two behaviours are kept on purpose because the
benchmark's expected response depends on them: `Review.author` is always user 1 with the first
two reviews, and inventory's entity resolver ignores the required price and weight, so
`shippingEstimate` is always null. Beyond their nine products, products and inventory make up
product N on demand, so `topProducts(first: N)` can return any N (the scale workload).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .executor import Resolvers, Subgraph

_DATA = json.loads((Path(__file__).with_name("data.json")).read_text())

USERS = {u["id"]: {"__typename": "User", **u} for u in _DATA["users"]}
PRODUCTS = [{"__typename": "Product", **p} for p in _DATA["products"]]
PRODUCTS_BY_UPC = {p["upc"]: p for p in PRODUCTS}
IN_STOCK = {i["upc"]: i["inStock"] for i in _DATA["inventory"]}
REVIEWS = [
    {"__typename": "Review", "id": r["id"], "body": r["body"], "product": {"__typename": "Product", "upc": r["product"]}}
    for r in _DATA["reviews"]
]
REVIEWS_BY_ID = {r["id"]: r for r in REVIEWS}
REVIEWS_BY_UPC: dict[str, list[dict[str, Any]]] = {}
for _r in REVIEWS:
    REVIEWS_BY_UPC.setdefault(_r["product"]["upc"], []).append(_r)


def _product(upc: str) -> dict[str, Any]:
    known = PRODUCTS_BY_UPC.get(upc)
    if known is not None:
        return known
    i = int(upc)
    return {"__typename": "Product", "upc": upc, "name": f"Product {i}", "price": 100 + i % 900, "weight": 10 + i % 90}


@lru_cache(maxsize=64)
def _top_products(first: int) -> list[dict[str, Any]]:
    return [_product(str(i)) for i in range(1, first + 1)]


def _entities(by_type: dict[str, Any]) -> Any:
    def resolve(_parent: Any, args: dict[str, Any]) -> list[Any]:
        return [by_type[rep["__typename"]](rep) for rep in args["representations"]]

    return resolve


def accounts() -> Subgraph:
    resolvers: Resolvers = {
        "Query": {
            "me": lambda _p, _a: USERS["1"],
            "user": lambda _p, a: USERS.get(str(a["id"])),
            "users": lambda _p, _a: list(USERS.values()),
            "_entities": _entities({"User": lambda rep: USERS[str(rep["id"])]}),
        }
    }
    return Subgraph("accounts", resolvers)


def inventory() -> Subgraph:
    def product(rep: dict[str, Any]) -> dict[str, Any]:
        upc = rep["upc"]
        in_stock = IN_STOCK.get(upc)
        if in_stock is None:
            in_stock = int(upc) % 3 != 0
        # price and weight stay null, as in the Rust subgraph, so shippingEstimate is null
        return {"__typename": "Product", "upc": upc, "inStock": in_stock, "price": None, "weight": None}

    def shipping_estimate(p: dict[str, Any], _a: Any) -> int | None:
        price, weight = p.get("price"), p.get("weight")
        if price is None:
            return None
        if price > 1000:
            return 0
        return None if weight is None else weight // 2

    resolvers: Resolvers = {
        "Query": {"_entities": _entities({"Product": product})},
        "Product": {"shippingEstimate": shipping_estimate},
    }
    return Subgraph("inventory", resolvers)


def products() -> Subgraph:
    resolvers: Resolvers = {
        "Query": {
            "topProducts": lambda _p, a: _top_products(5 if a.get("first") is None else int(a["first"])),
            "_entities": _entities({"Product": lambda rep: _product(rep["upc"])}),
        }
    }
    return Subgraph("products", resolvers)


def reviews() -> Subgraph:
    author = {"__typename": "User", "id": "1", "username": "urigo", "reviews": REVIEWS[0:2]}
    resolvers: Resolvers = {
        "Query": {
            "_entities": _entities(
                {
                    "Review": lambda rep: REVIEWS_BY_ID[str(rep["id"])],
                    "User": lambda rep: {"__typename": "User", "id": rep["id"], "username": "user", "reviews": REVIEWS[0:2]},
                    "Product": lambda rep: {"__typename": "Product", "upc": rep["upc"]},
                }
            ),
        },
        "Review": {"author": lambda _p, _a: author},
        "Product": {"reviews": lambda p, _a: REVIEWS_BY_UPC.get(p["upc"], [])},
    }
    return Subgraph("reviews", resolvers)


SUBGRAPHS = {"accounts": accounts, "inventory": inventory, "products": products, "reviews": reviews}
