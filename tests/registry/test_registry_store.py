"""The registry's service on both real databases: migrations, publish, refusal, history, diff, rollback, usage."""

from __future__ import annotations

import pytest
from registry_helpers import PRODUCTS, REVIEWS, REVIEWS_CLASHING

from gateway.registry import RegistryError, open_database
from gateway.registry import service as svc
from gateway.registry.store import MIGRATIONS


@pytest.fixture
def db(database: str):  # type: ignore[no-untyped-def]
    d = open_database(database)
    d.migrate()
    svc.create_graph(d, "shop")
    yield d
    d.close()


def test_migrations_apply_once_and_are_recorded(database: str) -> None:
    d = open_database(database)
    assert d.migrate() == len(MIGRATIONS)
    assert d.migrate() == len(MIGRATIONS)  # a second start changes nothing
    with d.transaction() as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    d.close()


def test_publish_composes_versions_and_refuses_what_does_not_compose(db) -> None:  # type: ignore[no-untyped-def]
    first = svc.publish(db, "shop", "prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    assert (first.status, first.supergraph_version) == ("published", 1)
    second = svc.publish(db, "shop", "prod", "reviews", REVIEWS, "http://127.0.0.1:2/graphql")
    assert (second.status, second.supergraph_version) == ("published", 2)
    assert svc.publish(db, "shop", "prod", "reviews", REVIEWS, "http://127.0.0.1:2/graphql").status == "unchanged"
    assert svc.publish(db, "shop", "prod", "reviews", REVIEWS, None).status == "unchanged"  # keeps its URL
    served = svc.supergraph(db, "shop", "prod")
    assert served["version"] == 2 and "reviews: [String!]!" in served["sdl"]

    with pytest.raises(RegistryError) as refused:
        svc.publish(db, "shop", "prod", "reviews", REVIEWS_CLASHING, "http://127.0.0.1:2/graphql")
    assert refused.value.code == "COMPOSITION_FAILED" and refused.value.status == 422
    codes = {e["code"] for e in refused.value.extensions["composition"]["errors"]}
    assert "INVALID_FIELD_SHARING" in codes
    # Nothing a gateway sees changed; the attempt is kept with its codes.
    assert svc.supergraph(db, "shop", "prod")["sha256"] == served["sha256"]
    assert svc.fetch_subgraph(db, "shop", "prod", "reviews")["sdl"] == REVIEWS
    attempts = svc.compositions(db, "shop", "prod")
    assert attempts[0]["succeeded"] is False and attempts[0]["errors"][0]["code"] in codes
    assert [a["succeeded"] for a in attempts[1:]] == [True, True]


def test_bad_input_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    svc.publish(db, "shop", "prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    for args, code in [
        (("shop", "prod", "products", "type Query {", "http://x/graphql"), "INVALID_SDL"),
        (("shop", "prod", "products", PRODUCTS, "ftp://x"), "BAD_REQUEST"),
        (("shop", "prod", "no such!", PRODUCTS, "http://x/graphql"), "BAD_REQUEST"),
        (("shop", "prod", "newcomer", PRODUCTS, None), "BAD_REQUEST"),
        (("nope", "prod", "products", PRODUCTS, "http://x/graphql"), "GRAPH_NOT_FOUND"),
    ]:
        with pytest.raises(RegistryError) as err:
            svc.publish(db, *args)
        assert err.value.code == code
    assert [v["version"] for v in svc.history(db, "shop", "prod")] == [1]


def test_history_diff_and_rollback(db) -> None:  # type: ignore[no-untyped-def]
    svc.publish(db, "shop", "prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    svc.publish(db, "shop", "prod", "reviews", REVIEWS, "http://127.0.0.1:2/graphql")
    changes = svc.diff(db, "shop", "prod", 1, 2)["changes"]
    assert {(c["severity"], c["message"]) for c in changes} == {("safe", "Field Product.reviews was added.")}
    back = svc.diff(db, "shop", "prod", 2, 1)["changes"]
    assert [(c["severity"], c["code"]) for c in back] == [("breaking", "FIELD_REMOVED")]

    done = svc.rollback(db, "shop", "prod", 1)
    assert done["supergraph_version"] == 3
    assert svc.supergraph(db, "shop", "prod")["sha256"] == svc.supergraph(db, "shop", "prod", 1)["sha256"]
    assert [s["name"] for s in svc.list_subgraphs(db, "shop", "prod")] == ["products"]
    assert [(v["version"], v["current"], v["reason"]) for v in svc.history(db, "shop", "prod")] == [
        (3, True, "rollback to 1"), (2, False, "publish reviews"), (1, False, "publish products")]
    with pytest.raises(RegistryError) as err:
        svc.rollback(db, "shop", "prod", 99)
    assert err.value.code == "VERSION_NOT_FOUND"


def _report(coords: list[str], client: str = "web", count: int = 5, name: str = "GetProducts",  # type: ignore[type-arg]
            op: str = "ab12cd34") -> dict:
    return {"operations": {op: {"name": name, "coordinates": coords}},
            "counts": [{"operation": op, "client_name": client, "client_version": "1.2", "count": count}]}


def test_usage_aware_check(db) -> None:  # type: ignore[no-untyped-def]
    svc.publish(db, "shop", "prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    for _ in range(2):  # two reports in one minute: one row, counts summed
        svc.report_usage(db, "shop", "prod", _report(["Query", "Query.products", "Product", "Product.price", "Int"]))
    without_price = PRODUCTS.replace(" price: Int", "")
    result = svc.check(db, "shop", "prod", "products", without_price)
    # Int goes too (no field uses it any more): used, so breaking as well.
    assert [(c["code"], c["severity"]) for c in result["changes"]] == [("TYPE_REMOVED", "breaking"),
                                                                       ("FIELD_REMOVED", "breaking")]
    change = result["changes"][1]
    assert change["severity"] == "breaking" and change["code"] == "FIELD_REMOVED"
    assert change["usage"]["operations"][0]["name"] == "GetProducts"
    assert change["usage"]["clients"] == [{"name": "web", "version": "1.2", "requests": 10}]
    with db.transaction() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM usage_counts")[0]["n"] == 1
    # More requests needed than were seen: lowered.
    lowered = svc.check(db, "shop", "prod", "products", without_price, min_requests=11)["changes"]
    assert {c["severity"] for c in lowered} == {"safe"}

    without_name = PRODUCTS.replace(" name: String!", "")
    [unused] = svc.check(db, "shop", "prod", "products", without_name)["changes"]
    assert (unused["severity"], unused["schema_severity"], unused["usage"]["requests"]) == ("safe", "breaking", 0)

    # An output enum's value removal breaks whoever selects a field of that enum type.
    svc.report_usage(db, "shop", "prod", _report(["Product.status", "Status"], client="ios", name="Status", op="ef56ab78"))
    [enum] = svc.check(db, "shop", "prod", "products", PRODUCTS.replace(" RETIRED", ""))["changes"]
    assert enum["severity"] == "breaking" and enum["usage"]["clients"][0]["name"] == "ios"


@pytest.mark.parametrize("body", [
    [], {"operations": [], "counts": []}, {"operations": {"zz": {"coordinates": []}}, "counts": []},
    {"operations": {"ab12cd34": {"coordinates": ["not a coordinate!"]}}, "counts": []},
    {"operations": {"ab12cd34": {"coordinates": ["Query.a"]}}, "counts": [{"operation": "ffff0000", "count": 1}]},
    {"operations": {"ab12cd34": {"coordinates": ["Query.a"]}}, "counts": [{"operation": "ab12cd34", "count": -1}]},
    {"operations": {"ab12cd34": {"coordinates": ["Query.a"]}}, "counts": [{"operation": "ab12cd34", "count": 1,
                                                                          "client_name": 7}]},
])
def test_malformed_usage_reports_are_refused_whole(db, body) -> None:  # type: ignore[no-untyped-def]
    svc.publish(db, "shop", "prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql")
    with pytest.raises(RegistryError) as err:
        svc.report_usage(db, "shop", "prod", body)
    assert err.value.code == "BAD_USAGE_REPORT" and err.value.status == 400
    with db.transaction() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM usage_counts")[0]["n"] == 0
