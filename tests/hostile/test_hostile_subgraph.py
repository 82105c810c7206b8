"""A subgraph that answers badly: every case gets GraphQL errors with a SUBGRAPH_* (or, for values that do
not fit the schema, RESPONSE_VALIDATION_FAILED) code and `serviceName` at the paths it left null, the good
subgraph's fields are still served, the gateway never answers 5xx, and /metrics counts each kind."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from gateways import Proc
from hostile_subgraph import WIDGET

FIELDS = "id count status tags ratio"


def widget(gateway: Proc, mode: str) -> dict[str, Any]:
    """`{ ok widget(mode:) {...} }` through the gateway: the good subgraph's `ok` beside the hostile fetch."""
    response = httpx.post(gateway.url, json={"query": f'{{ ok widget(mode: "{mode}") {{ {FIELDS} }} }}'}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["data"]["ok"] == "fine"  # the other fetch is unaffected
    return body


def products(gateway: Proc, mode: str) -> dict[str, Any]:
    """`products` from the good subgraph, `stock`/`status` from the hostile one's `_entities`."""
    query = f'{{ products(mode: "{mode}") {{ id name stock status }} }}'
    response = httpx.post(gateway.url, json={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def errors_count(gateway: Proc, kind: str, subgraph: str = "hostile") -> float:
    text = httpx.get(gateway.base_url + "/metrics", timeout=5).text
    found = re.search(rf'^fedgate_subgraph_errors_total{{kind="{kind}",subgraph="{subgraph}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def failed(message: str, code: str = "SUBGRAPH_REQUEST_FAILED") -> dict[str, Any]:
    """The body when the hostile root fetch brought nothing: `widget` null, one error at its path."""
    error = {"message": message, "path": ["widget"], "extensions": {"code": code, "serviceName": "hostile"}}
    return {"data": {"ok": "fine", "widget": None}, "errors": [error]}


CASES = [
    # (mode, metric kind, the whole response)
    ("html502", "http_error", failed("HTTP fetch failed from 'hostile': 502", "SUBGRAPH_UNAVAILABLE")),
    ("html200", "invalid_json", failed("HTTP fetch failed from 'hostile': invalid JSON in response")),
    ("truncated", "invalid_json", failed("HTTP fetch failed from 'hostile': invalid JSON in response")),
    ("cutoff", "truncated", failed("HTTP fetch failed from 'hostile': truncated response body")),
    ("notgraphql", "not_graphql", failed("HTTP fetch failed from 'hostile': 200: response is not a GraphQL response")),
    ("jsonlist", "not_graphql", failed("HTTP fetch failed from 'hostile': 200: response is not a GraphQL response")),
    ("errorsnodata", "no_data", {
        "data": {"ok": "fine", "widget": None},
        "errors": [{"message": "database exploded", "path": ["widget"],
                    "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "hostile"}}],
    }),
    ("huge", "too_large", failed("HTTP fetch failed from 'hostile': response larger than 1000000 bytes")),
    ("hugechunked", "too_large", failed("HTTP fetch failed from 'hostile': response larger than 1000000 bytes")),
    ("slowloris", "timeout", failed("HTTP fetch failed from 'hostile': request timed out", "SUBGRAPH_UNAVAILABLE")),
    ("trickle", "timeout", failed("HTTP fetch failed from 'hostile': request timed out", "SUBGRAPH_UNAVAILABLE")),
]


@pytest.mark.parametrize(("mode", "kind", "expected"), CASES, ids=[c[0] for c in CASES])
def test_unusable_answers(gateway: Proc, mode: str, kind: str, expected: dict[str, Any]):
    before = errors_count(gateway, kind)
    start = time.monotonic()
    assert widget(gateway, mode) == expected
    # Slow loris and trickle: the read timeout (1 s, one retry) holds; the trickle alone would take minutes.
    assert time.monotonic() - start < 10
    assert errors_count(gateway, kind) > before


def test_too_large_answers_are_not_read_to_the_end(gateway: Proc, hostile_subgraph: Proc):
    """The gateway hangs up once the limit is passed: of its 50 MB the subgraph got to write what the two
    kernels' socket buffers hold (about 10 MB on loopback), not the rest."""
    for mode in ("huge", "hugechunked"):
        widget(gateway, mode)
        time.sleep(0.3)
        written = httpx.get(hostile_subgraph.base_url + "/stats", timeout=5).json()[mode]
        assert written < 25_000_000, (mode, written)


def test_wrong_int_is_nulled_and_null_propagates(gateway: Proc):
    """`count: Int!` is a string: the error is at `count`, and the null goes up to the nullable `widget`."""
    before = errors_count(gateway, "invalid_value", "")
    assert widget(gateway, "wrongint") == {
        "data": {"ok": "fine", "widget": None},
        "errors": [{"message": "Invalid value found for field Widget.count.", "path": ["widget", "count"],
                    "extensions": {"code": "RESPONSE_VALIDATION_FAILED"}}],
    }
    assert errors_count(gateway, "invalid_value", "") > before


def test_unknown_enum_value_is_nulled(gateway: Proc):
    body = widget(gateway, "wrongenum")
    assert body["data"]["widget"] == {**WIDGET, "status": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["widget", "status"], "RESPONSE_VALIDATION_FAILED")
    ]


def test_object_in_a_scalar_list_and_string_for_float_are_nulled(gateway: Proc):
    assert widget(gateway, "objectlist") == {
        "data": {"ok": "fine", "widget": {**WIDGET, "tags": [None, "b"], "ratio": None}},
        "errors": [
            {"message": "Invalid value found for field Widget.tags.", "path": ["widget", "tags", 0],
             "extensions": {"code": "RESPONSE_VALIDATION_FAILED"}},
            {"message": "Invalid value found for field Widget.ratio.", "path": ["widget", "ratio"],
             "extensions": {"code": "RESPONSE_VALIDATION_FAILED"}},
        ],
    }


@pytest.mark.parametrize("mode", ["fewer", "more"])
def test_entities_of_the_wrong_count_are_not_merged(gateway: Proc, mode: str):
    before = errors_count(gateway, "entities_count")
    body = products(gateway, mode)
    got = 1 if mode == "fewer" else 3
    assert body["data"] == {"products": [
        {"id": f"{mode}:1", "name": "one", "stock": None, "status": None},
        {"id": f"{mode}:2", "name": "two", "stock": None, "status": None},
    ]}
    message = f"Subgraph 'hostile' returned {got} `_entities` for 2 representations."
    assert body["errors"] == [
        {"message": message, "path": ["products", i, field],
         "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "serviceName": "hostile"}}
        for i in (0, 1) for field in ("stock", "status")
    ]
    assert errors_count(gateway, "entities_count") > before


def test_entity_of_the_wrong_type_is_not_merged(gateway: Proc):
    before = errors_count(gateway, "entity_typename")
    body = products(gateway, "typename")
    assert body == {
        "data": {"products": [
            {"id": "typename:1", "name": "one", "stock": None, "status": None},
            {"id": "typename:2", "name": "two", "stock": 7, "status": "ACTIVE"},
        ]},
        "errors": [{
            "message": "Subgraph 'hostile' returned an entity of type 'Widget' for a representation of type 'Product'.",
            "path": ["products", 0, field],
            "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "serviceName": "hostile"},
        } for field in ("stock", "status")],
    }
    assert errors_count(gateway, "entity_typename") > before


def test_null_entities_leave_their_fields_null(gateway: Proc):
    """A null in `_entities` is "not found" in federation (as Apollo Router reads it): nullable fields are
    null, without an error."""
    assert products(gateway, "nulls") == {"data": {"products": [
        {"id": "nulls:1", "name": "one", "stock": None, "status": None},
        {"id": "nulls:2", "name": "two", "stock": 7, "status": "ACTIVE"},
    ]}}


def test_entity_values_of_the_wrong_type_are_nulled(gateway: Proc):
    body = products(gateway, "entwrong")
    assert body["data"]["products"][0] == {"id": "entwrong:1", "name": "one", "stock": None, "status": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["products", 0, "stock"], "RESPONSE_VALIDATION_FAILED"),
        (["products", 0, "status"], "RESPONSE_VALIDATION_FAILED"),
    ]


@pytest.mark.parametrize("mode", ["closeeach", "silentclose"])
def test_connections_closed_after_every_answer(gateway: Proc, mode: str):
    """`Connection: close` on every answer, or a keep-alive connection dropped right after the answer:
    every request is still served (a dropped idle connection is retried on a fresh one)."""
    for _ in range(30):
        assert widget(gateway, mode) == {"data": {"ok": "fine", "widget": WIDGET}}


def test_connection_resets_under_load(gateway: Proc):
    """Every other connection is reset (RST) instead of answered, under 100 concurrent requests: each
    client gets a 200 with the good subgraph's data and either the widget or a SUBGRAPH_* error."""

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50)) as client:
            # Distinct aliases: identical concurrent fetches would be deduplicated into one.
            return await asyncio.gather(*(
                client.post(gateway.url, json={"query": f'{{ ok w{i}: widget(mode: "reset") {{ {FIELDS} }} }}'})
                for i in range(100)
            ))

    served = 0
    for i, response in enumerate(asyncio.run(run())):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"]["ok"] == "fine"
        if body["data"][f"w{i}"] == WIDGET:
            served += 1
            continue
        assert body["data"][f"w{i}"] is None
        assert "errors" in body, body
        [error] = body["errors"]
        assert error["path"] == [f"w{i}"] and error["extensions"]["serviceName"] == "hostile"
        assert error["extensions"]["code"] in ("SUBGRAPH_UNAVAILABLE", "SUBGRAPH_REQUEST_FAILED")
    assert served >= 50  # one retry on a fresh connection gets most through
