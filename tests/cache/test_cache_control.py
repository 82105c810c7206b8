"""Subgraph `Cache-Control` headers (max-age lowers the TTL, private is per user) and partial hits as the
subgraph sees them, against small real HTTP subgraphs (tests/execution/shop.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cache_helpers import ServerThread
from shop import graphql_app, inventory_schema, products_schema, reviews_schema, supergraph_sdl

from gateway.config import GatewayConfig
from gateway.server import create_app
from gateway.supergraph import load_supergraph

HEADERS = {"products": "public, max-age=1", "reviews": "private, max-age=60", "inventory": None}


def with_cache_control(app: Any, value: str | None) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_with(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and value is not None:
                message = {**message, "headers": [*message.get("headers", []), (b"cache-control", value.encode())]}
            await send(message)

        await app(scope, receive, send_with)

    return wrapped


@pytest.fixture(scope="module")
def shop() -> Iterator[dict[str, Any]]:
    schemas = {"products": products_schema(), "inventory": inventory_schema(), "reviews": reviews_schema()}
    with contextlib.ExitStack() as stack:
        running: dict[str, Any] = {}
        for name, schema in schemas.items():
            requests: list[dict[str, Any]] = []
            server = stack.enter_context(ServerThread(with_cache_control(graphql_app(schema, requests), HEADERS[name])))
            running[name] = (server.url, requests)
        yield running


@pytest.fixture
def gateway(shop: dict[str, Any]) -> Iterator[str]:
    supergraph = load_supergraph(supergraph_sdl({name: url for name, (url, _) in shop.items()}))
    config = GatewayConfig.model_validate({"cache": {"entities": {"enabled": True, "private_id_header": "x-user"}}})
    with ServerThread(create_app(supergraph, config), lifespan="on") as server:
        yield server.url


def _asked(shop: dict[str, Any]) -> dict[str, int]:
    return {name: len(requests) for name, (_, requests) in shop.items()}


def test_subgraph_max_age_and_private_answers(shop, gateway):
    query = "{ topProducts { upc name inStock reviews { id } } }"

    def post(user: str | None) -> tuple[dict[str, int], httpx.Response]:
        before = _asked(shop)
        response = httpx.post(gateway, json={"query": query}, headers={"x-user": user} if user else {})
        after = _asked(shop)
        return {name: after[name] - before[name] for name in after}, response

    asked, first = post("ada")
    assert asked == {"products": 1, "inventory": 1, "reviews": 1}
    assert first.headers["cache-control"] == "max-age=1,private"  # the lowest max-age; private reviews
    asked, again = post("ada")
    assert asked == {"products": 0, "inventory": 0, "reviews": 0} and again.json() == first.json()
    asked, _ = post("grace")
    assert asked == {"products": 0, "inventory": 0, "reviews": 1}  # ada's reviews are not grace's
    asked, anonymous = post(None)
    assert asked["reviews"] == 1 and anonymous.headers["cache-control"] == "no-store"
    time.sleep(1.1)  # products said max-age=1: their entry is gone, inventory's (60 s) is not
    asked, _ = post("ada")
    assert asked == {"products": 1, "inventory": 0, "reviews": 0}


def test_a_partial_hit_sends_only_the_missing_representations(shop, gateway):
    _, inventory = shop["inventory"]
    httpx.post(gateway, json={"query": '{ product(upc: "1") { upc inStock } }'})
    inventory.clear()

    body = httpx.post(gateway, json={"query": "{ topProducts { upc inStock } }"}).json()

    assert [r["upc"] for r in inventory[0]["variables"]["representations"]] == ["2", "3"]
    assert [p["upc"] for p in body["data"]["topProducts"]] == ["1", "2", "3"]
    assert all(isinstance(p["inStock"], bool) for p in body["data"]["topProducts"])
