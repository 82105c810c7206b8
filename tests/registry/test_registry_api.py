"""The registry's HTTP API and CLI against a real `fedgate registry serve`: auth, ETags, bad input, commands."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from registry_helpers import ADMIN, PRODUCTS, REVIEWS, REVIEWS_CLASHING, Api, fedgate, shop_sdl

from gateway.registry.tokens import hash_token


@pytest.fixture
def registry(start_registry):  # type: ignore[no-untyped-def]
    return start_registry()


@pytest.fixture
def api(registry) -> Api:  # type: ignore[no-untyped-def]
    admin = Api(registry.base_url)
    assert admin.call("POST", "/graphs", {"name": "shop"}).status_code == 201
    return admin


def _code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"errors"} and body["errors"][0]["message"], body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def test_tokens_scope_who_may_do_what(registry, api: Api) -> None:  # type: ignore[no-untyped-def]
    orders = api.make_token("publish", "shop", "orders")
    read = api.make_token("read", "shop")
    assert api.call("POST", "/graphs", {"name": "other"}).status_code == 201
    other_read = api.make_token("read", "other")

    r = api.with_token(None).publish("shop@prod", "orders", PRODUCTS, "http://127.0.0.1:1/graphql")
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED" and r.headers["www-authenticate"] == "Bearer"
    r = api.with_token("fgr_publish_forged").publish("shop@prod", "orders", PRODUCTS, "http://127.0.0.1:1/graphql")
    assert r.status_code == 401 and _code(r) == "UNAUTHENTICATED"
    r = api.with_token(orders).publish("shop@prod", "payments", PRODUCTS, "http://127.0.0.1:1/graphql")
    assert r.status_code == 403 and _code(r) == "FORBIDDEN" and "shop/payments" in r.json()["errors"][0]["message"]
    r = api.with_token(read).publish("shop@prod", "orders", PRODUCTS, "http://127.0.0.1:1/graphql")
    assert r.status_code == 403 and _code(r) == "FORBIDDEN"
    assert api.with_token(orders).call("POST", "/tokens", {"kind": "read", "graph": "shop"}).status_code == 403
    assert api.with_token(orders).publish("shop@prod", "orders", PRODUCTS, "http://127.0.0.1:1/graphql").status_code == 201

    assert api.with_token(read).supergraph("shop@prod").status_code == 200
    r = api.with_token(other_read).supergraph("shop@prod")
    assert r.status_code == 403 and _code(r) == "FORBIDDEN"
    r = api.with_token(read).call("POST", "/graphs/shop/variants/prod/rollback", {"version": 1})
    assert r.status_code == 403
    # Only hashes are stored.
    stored = b"".join(p.read_bytes() for p in Path(registry.extra["database"]).parent.glob("registry.db*"))
    assert orders.encode() not in stored and hash_token(orders).encode() in stored


def test_supergraph_has_a_strong_etag_and_answers_304(api: Api) -> None:
    r = api.supergraph("shop@prod")
    assert r.status_code == 404 and _code(r) == "VARIANT_NOT_FOUND"
    api.publish("shop@prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    first = api.supergraph("shop@prod")
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["x-fedgate-supergraph-version"] == "1"
    again = api.call("GET", "/graphs/shop/variants/prod/supergraph", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    api.publish("shop@prod", "reviews", REVIEWS, "http://127.0.0.1:2/graphql")
    changed = api.call("GET", "/graphs/shop/variants/prod/supergraph", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag and "reviews" in changed.text
    old = api.call("GET", "/graphs/shop/variants/prod/supergraph?version=1")
    assert old.text == first.text and old.headers["etag"] == etag


def test_bad_input_gets_clear_errors_and_changes_nothing(api: Api) -> None:
    assert api.publish("shop@prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql").status_code == 201
    before = api.supergraph("shop@prod").headers["etag"]
    cases = [
        (api.publish("shop@prod", "products", "type Query {", "http://127.0.0.1:1/graphql"), 400, "INVALID_SDL"),
        (api.publish("nope@prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql"), 404, "GRAPH_NOT_FOUND"),
        (api.publish("shop@prod", "products", PRODUCTS, "not a url"), 400, "BAD_REQUEST"),
        (api.call("PUT", "/graphs/shop/variants/prod/subgraphs/products", content=b"{nope"), 400, "BAD_REQUEST"),
        (api.call("PUT", "/graphs/shop/variants/prod/subgraphs/products", content=b"a" * 10_000_000), 413,
         "PAYLOAD_TOO_LARGE"),
        (api.call("POST", "/graphs/shop/variants/prod/usage", {"operations": "x"}), 400, "BAD_USAGE_REPORT"),
        (api.call("GET", "/graphs/shop/variants/prod/diff?from=1&to=9"), 404, "VERSION_NOT_FOUND"),
        (api.call("GET", "/graphs/shop/variants/prod/diff?from=x&to=1"), 400, "BAD_REQUEST"),
        (api.call("GET", "/nowhere"), 404, "NOT_FOUND"),
        (api.call("DELETE", "/graphs"), 405, "METHOD_NOT_ALLOWED"),
        (api.call("POST", "/graphs", {"name": "shop"}), 409, "GRAPH_EXISTS"),
        (api.call("POST", "/graphs/shop/variants/prod/rollback", {"version": "1"}), 400, "BAD_REQUEST"),
    ]
    for r, status, code in cases:
        assert (r.status_code, _code(r)) == (status, code), r.text
    r = api.publish("shop@prod", "reviews", REVIEWS_CLASHING, "http://127.0.0.1:2/graphql")
    assert r.status_code == 422 and _code(r) == "COMPOSITION_FAILED"
    assert "INVALID_FIELD_SHARING" in {e["code"] for e in r.json()["errors"][0]["extensions"]["composition"]["errors"]}
    assert api.supergraph("shop@prod").headers["etag"] == before
    versions = api.call("GET", "/graphs/shop/variants/prod/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1]


def test_cli_publish_check_history_rollback(registry, api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"FEDGATE_REGISTRY_URL": registry.base_url, "FEDGATE_REGISTRY_TOKEN": ADMIN}
    products, reviews, clash = tmp_path / "products.graphql", tmp_path / "reviews.graphql", tmp_path / "clash.graphql"
    products.write_text(PRODUCTS)
    reviews.write_text(REVIEWS)
    clash.write_text(REVIEWS_CLASHING)
    team = api.make_token("publish", "shop", "reviews")

    out = fedgate("publish", "--graph", "shop@prod", "--name", "products", "--schema", str(products),
                  "--routing-url", "http://127.0.0.1:1/graphql", env=env)
    assert out.returncode == 0 and "supergraph version 1" in out.stdout, out.stderr
    out = fedgate("publish", "--graph", "shop@prod", "--name", "reviews", "--schema", str(reviews),
                  "--routing-url", "http://127.0.0.1:2/graphql", env={**env, "FEDGATE_REGISTRY_TOKEN": team})
    assert out.returncode == 0 and "supergraph version 2" in out.stdout, out.stderr
    out = fedgate("publish", "--graph", "shop@prod", "--name", "reviews", "--schema", str(clash),
                  "--routing-url", "http://127.0.0.1:2/graphql", env=env)
    assert out.returncode == 1 and "error[INVALID_FIELD_SHARING]" in out.stderr
    out = fedgate("publish", "--graph", "shop@prod", "--name", "products", "--schema", str(products),
                  "--routing-url", "http://127.0.0.1:1/graphql", env={**env, "FEDGATE_REGISTRY_TOKEN": team})
    assert out.returncode == 2 and "[FORBIDDEN]" in out.stderr

    out = fedgate("check", "--registry", registry.base_url, "--graph", "shop@prod", "--name", "reviews",
                  "--schema", str(clash), env=env)
    assert out.returncode == 1 and "INVALID_FIELD_SHARING" in out.stderr
    gone = tmp_path / "gone.graphql"
    gone.write_text(REVIEWS.replace(" reviews: [String!]!", " stars: Int"))
    out = fedgate("check", "--registry", registry.base_url, "--graph", "shop@prod", "--name", "reviews",
                  "--schema", str(gone), "--format", "github", env=env)
    assert out.returncode == 0, out.stdout + out.stderr  # nobody used Product.reviews: safe
    assert "::notice" in out.stdout and "Product.reviews was removed" in out.stdout and "unused" in out.stdout

    out = fedgate("subgraph", "list", "shop@prod", env=env)
    assert out.returncode == 0 and [line.split()[0] for line in out.stdout.splitlines()] == ["products", "reviews"]
    out = fedgate("subgraph", "fetch", "shop@prod", "--name", "reviews", env=env)
    assert out.stdout.strip() == REVIEWS.strip()
    out = fedgate("graph", "rollback", "shop@prod", "--to-version", "1", env=env)
    assert out.returncode == 0 and "as v3" in out.stdout
    out = fedgate("graph", "history", "shop@prod", env=env)
    assert out.stdout.splitlines()[0].startswith("* v3") and "rollback to 1" in out.stdout
    out = fedgate("graph", "diff", "shop@prod", "--from", "2", "--to", "3", env=env)
    assert "BREAKING  FIELD_REMOVED: Field Product.reviews was removed." in out.stdout
    out = fedgate("graph", "history", "nope@prod", env=env)
    assert out.returncode == 2 and "GRAPH_NOT_FOUND" in out.stderr and "Traceback" not in out.stderr
    # Unreachable registry: one line, no stack trace.
    out = fedgate("subgraph", "list", "shop@prod", env={**env, "FEDGATE_REGISTRY_URL": "http://127.0.0.1:9"})
    assert out.returncode == 2 and "REGISTRY_UNAVAILABLE" in out.stderr and "Traceback" not in out.stderr


def test_local_check_still_works_without_registry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = fedgate("check", "--config", "schema/supergraph.yaml", "--base", "schema/supergraph.graphql")
    assert out.returncode == 0 and "0 breaking" in out.stdout
    out = fedgate("check")
    assert out.returncode == 2 and "--config and --base" in out.stderr


def test_shop_publishes_byte_identical_to_make_schema(api: Api, repo_root) -> None:  # type: ignore[no-untyped-def]
    for name, port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        r = api.publish("shop@prod", name, shop_sdl(name), f"http://127.0.0.1:{port}/graphql")
        assert r.status_code == 201, r.text
    assert api.supergraph("shop@prod").text == (repo_root / "schema" / "supergraph.graphql").read_text()
