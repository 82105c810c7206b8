"""Automatic persisted queries and safelisting, over HTTP, with Apollo Router's codes and statuses."""

from __future__ import annotations

import hashlib
import json

from cache_helpers import redis_config

QUERY = '{ order(id: "1") { id status } }'
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
EXPECTED = {"data": {"order": {"id": "1", "status": "APPROVED"}}}


def _pq(digest: str = DIGEST) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_apq_register_then_use_by_hash_on_post_and_get(start_gateway):
    gateway = start_gateway()

    unknown = gateway.post(extensions=_pq())
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert unknown.headers["cache-control"] == "private, no-cache, must-revalidate"  # as Router: never cache a miss

    registered = gateway.post(QUERY, extensions=_pq())
    assert registered.status_code == 200 and registered.json() == EXPECTED

    by_hash = gateway.post(extensions=_pq())
    assert by_hash.json() == EXPECTED
    # (the preflight header satisfies CSRF prevention for a GET without a content type)
    by_get = gateway.client.get(
        gateway.url, params={"extensions": json.dumps(_pq())}, headers={"apollo-require-preflight": "true"}
    )
    assert by_get.status_code == 200 and by_get.json() == EXPECTED


def test_hash_mismatch_is_refused_and_not_executed(start_gateway):
    gateway = start_gateway()
    wrong = "0" * 64

    mismatch = gateway.post(QUERY, extensions=_pq(wrong))

    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "data" not in mismatch.json()
    assert gateway.post(extensions=_pq(wrong)).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_hash_with_apq_off_is_not_supported(start_gateway):
    gateway = start_gateway({"cache": {"apq": {"enabled": False}}})

    for answer in (gateway.post(extensions=_pq()), gateway.post(QUERY, extensions=_pq())):
        assert answer.status_code == 200  # Router's status for this code
        assert answer.json() == {
            "errors": [{"message": "PersistedQueryNotSupported", "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}}]
        }
    assert gateway.post(QUERY).json() == EXPECTED


def test_two_gateways_sharing_redis_share_apq_entries(start_gateway, redis_server, key_prefix):
    config = redis_config(redis_server.url, key_prefix)
    a = start_gateway(config)
    b = start_gateway(config)

    assert a.post(QUERY, extensions=_pq()).json() == EXPECTED
    assert b.post(extensions=_pq()).json() == EXPECTED


def test_safelist_accepts_only_manifest_operations(start_gateway, tmp_path):
    other = '{ order(id: "2") { id } }'
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": "order-one", "name": None, "type": "query", "body": QUERY}],
            }
        )
    )
    gateway = start_gateway({"cache": {"apq": {"safelist": {"enabled": True, "manifest": str(manifest)}}}})

    assert gateway.post(extensions=_pq("order-one")).json() == EXPECTED
    assert gateway.post(QUERY).json() == EXPECTED  # the same body, sent in full
    not_listed = gateway.post(other)
    assert not_listed.status_code == 403
    assert not_listed.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    unknown_id = gateway.post(extensions=_pq("nope"))
    assert unknown_id.status_code == 404
    assert unknown_id.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    # APQ registration cannot add to the list.
    digest = hashlib.sha256(other.encode()).hexdigest()
    assert gateway.post(other, extensions=_pq(digest)).json()["errors"][0]["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_IN_LIST"
    )
