"""Limits, introspection, CSRF prevention, CORS, error masking and slow clients on a running gateway."""

from __future__ import annotations

import socket

import httpx
import pytest
from gateways import PREFLIGHT
from prometheus_client.parser import text_string_to_metric_families


def _fetches(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "fedgate_subgraph_fetches_total"
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ a { b { c { d { e } } } } }", "MAX_DEPTH_LIMIT"),
        ("{ a: public b: public c: public d: public }", "MAX_ALIASES_LIMIT"),
        ("{ public secret admin boom items { id } headers { name } }", "MAX_ROOT_FIELDS_LIMIT"),
        ("{ " + "public " * 450 + "}", "MAX_TOKENS_LIMIT"),
        ("{ items { id } headers { name } profile { name } a: items { id } }", "COST_ESTIMATED_TOO_EXPENSIVE"),
        ("{ __schema { types { name } } }", "INTROSPECTION_DISABLED"),
        ("query Q { ...F } fragment F on Query { __type(name: \"Query\") { name } }", "INTROSPECTION_DISABLED"),
    ],
)
def test_limits_refuse_before_any_subgraph_is_called(strict, query, code):
    before = _fetches(strict.base_url)
    response = strict.post(query)

    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert code in {e["extensions"]["code"] for e in body["errors"]}
    assert _fetches(strict.base_url) == before


def test_within_the_limits_runs_and_typename_is_always_allowed(strict):
    body = strict.post("{ __typename items { id } headers { name } profile { __typename } }").json()
    assert body["data"]["__typename"] == "Query"
    assert len(body["data"]["items"]) == 2


def test_body_over_the_limit_is_413(strict):
    response = strict.post("{ public }", padding="x" * 25_000)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"},
     {"content-type": "multipart/form-data; boundary=x"}],
)
def test_csrf_simple_posts_are_refused(strict, headers):
    response = httpx.post(strict.url, content=b'{"query":"{ public }"}', headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"


def test_csrf_content_types_that_are_not_mime_types_are_refused(strict):
    body = b'{"query":"{ public }"}'
    for headers in ([("content-type", "garbage")], [("content-type", "application/json"), ("content-type", "text/plain")]):
        response = httpx.post(strict.url, content=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    # The header's presence is what a browser preflights, whatever its value (Router accepts it empty).
    empty = httpx.post(strict.url, content=body, headers={"content-type": "text/plain", "apollo-require-preflight": ""})
    assert empty.json() == {"data": {"public": "public"}}


def test_csrf_gets_need_a_preflight_header(strict):
    params = {"query": "{ public }"}
    assert httpx.get(strict.url, params=params).json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    assert httpx.get(strict.url, params=params, headers=PREFLIGHT).json() == {"data": {"public": "public"}}
    named = httpx.get(strict.url, params=params, headers={"x-apollo-operation-name": "Q"})
    assert named.json() == {"data": {"public": "public"}}
    # A text/plain POST with the header is fine too.
    ok = httpx.post(strict.url, content=b'{"query":"{ public }"}', headers={"content-type": "text/plain", **PREFLIGHT})
    assert ok.status_code == 200


def test_cors_answers_only_allowed_origins(strict):
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    allowed = httpx.options(strict.url, headers={"origin": "https://app.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.options(strict.url, headers={"origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    post = httpx.post(strict.url, json={"query": "{ public }"}, headers={"origin": "https://app.example"})
    assert post.headers["access-control-allow-origin"] == "https://app.example"
    post = httpx.post(strict.url, json={"query": "{ public }"}, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in post.headers


def test_subgraph_errors_lose_stack_traces_and_urls(strict):
    body = strict.post("{ boom public }").json()

    assert body["data"] == {"boom": None, "public": "public"}
    (error,) = body["errors"]
    assert error["path"] == ["boom"]
    assert error["message"].startswith("upstream [url] failed")
    assert "Traceback" not in error["message"] and "://" not in error["message"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "hint": "see [url]", "serviceName": "echo"}


def test_masked_subgraph_errors_keep_only_code_and_service(masking, keys):
    response = masking.post("{ boom }", headers={"authorization": f"Bearer {keys.token()}"})
    (error,) = response.json()["errors"]
    assert error["message"] == "Subgraph errors redacted"
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "serviceName": "echo"}


def test_a_slow_client_gets_408_and_does_not_block_others(strict):
    with socket.create_connection(("127.0.0.1", strict.port), timeout=10) as slow:
        slow.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"qu"
        )
        # While it stalls, others are served.
        assert strict.post("{ public }").json() == {"data": {"public": "public"}}
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = slow.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    assert strict.alive()
