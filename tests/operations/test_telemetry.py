"""Metrics, request ids, structured logs, traces and header rules, seen from outside a running gateway."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

HEADERS_QUERY = "query Headers { headers { name value } }"


def _metrics(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _seen_headers(body: dict[str, Any]) -> dict[str, str]:
    return {h["name"]: h["value"] for h in body["data"]["headers"]}


def test_metrics_count_requests_and_fetches_by_operation_and_outcome(observed):
    gateway = observed["gateway"]
    before = _metrics(gateway.base_url)
    for _ in range(3):
        assert gateway.post("query Pub { public }").json() == {"data": {"public": "public"}}
    # A validation error: 200 under application/json (GraphQL over HTTP), still counted as refused.
    assert gateway.post("query Broken { nope }").status_code == 200
    assert "errors" in gateway.post("query Boom { boom }").json()

    after = _metrics(gateway.base_url)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("fedgate_requests_total", operation="Pub", outcome="success") == 3
    assert delta("fedgate_requests_total", operation="Broken", outcome="refused") == 1
    assert delta("fedgate_requests_total", operation="Boom", outcome="error") == 1
    assert delta("fedgate_request_duration_seconds_count", operation="Pub", outcome="success") == 3
    assert delta("fedgate_subgraph_fetches_total", subgraph="echo", outcome="success") == 3
    assert delta("fedgate_subgraph_fetches_total", subgraph="echo", outcome="error") == 1
    assert delta("fedgate_subgraph_fetch_duration_seconds_count", subgraph="echo", outcome="success") == 3
    assert after[("fedgate_requests_in_flight", ())] == 0
    assert after[("fedgate_plan_cache_size", ())] >= 2


def test_request_id_is_returned_logged_and_sent_to_subgraphs(observed):
    gateway = observed["gateway"]
    generated = gateway.post(HEADERS_QUERY)
    rid = generated.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert _seen_headers(generated.json())["x-request-id"] == rid

    given = gateway.post(HEADERS_QUERY, headers={"x-request-id": "client-chosen-42"})
    assert given.headers["x-request-id"] == "client-chosen-42"
    assert _seen_headers(given.json())["x-request-id"] == "client-chosen-42"

    # Not well-formed: replaced rather than trusted.
    odd = gateway.post(HEADERS_QUERY, headers={"x-request-id": "a b\tc"})
    assert odd.headers["x-request-id"] != "a b\tc"

    # Every line is JSON, uvicorn's own included.
    lines = [json.loads(line) for line in gateway.log().splitlines() if line.strip()]
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    access = [line for line in lines if line.get("logger") == "fedgate.access"]
    mine = [line for line in access if line["request_id"] == "client-chosen-42"]
    assert mine and mine[0]["operation"] == "Headers" and mine[0]["status"] == 200
    assert {"time", "level", "message", "duration_ms"} <= set(mine[0])


def test_header_rules_decide_what_reaches_the_subgraph(observed, keys):
    gateway = observed["gateway"]
    token = keys.token(sub="user-77")
    body = gateway.post(
        HEADERS_QUERY,
        headers={
            "x-tenant": "acme",
            "x-feature-dark-mode": "on",
            "x-secret": "do-not-forward",
            "cookie": "session=1",
            "authorization": f"Bearer {token}",
        },
    ).json()
    seen = _seen_headers(body)
    assert seen["x-tenant-id"] == "acme"  # renamed
    assert "x-tenant" not in seen
    assert seen["x-region"] == "eu"  # default when absent
    assert seen["x-feature-dark-mode"] == "on"  # matched by regex
    assert seen["x-gateway"] == "fedgate"  # inserted
    assert seen["x-user"] == "user-77"  # from the JWT claim
    assert "x-secret" not in seen and "cookie" not in seen and "authorization" not in seen


def test_spans_for_request_plan_nodes_and_fetches_share_the_clients_trace(observed):
    gateway, spans_path = observed["gateway"], observed["spans"]
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    client_span = "00f067aa0ba902b7"
    body = gateway.post(HEADERS_QUERY, headers={"traceparent": f"00-{trace_id}-{client_span}-01"}).json()

    sent = _seen_headers(body)["traceparent"]
    version, sent_trace, sent_parent, flags = sent.split("-")
    assert sent_trace == trace_id and sent_parent != client_span and flags == "01"

    def spans() -> list[dict[str, Any]]:
        found = []
        for line in spans_path.read_text().splitlines():
            span = json.loads(line)
            if span["context"]["trace_id"] == "0x" + trace_id:
                found.append(span)
        return found

    deadline = time.monotonic() + 5  # the request span ends just after the response is sent
    while not any(s["name"] == "graphql.request" for s in spans()) and time.monotonic() < deadline:
        time.sleep(0.02)
    by_name = {s["name"]: s for s in spans()}
    assert {"graphql.request", "plan.fetch", "fetch echo"} <= set(by_name)
    request, node, fetch = by_name["graphql.request"], by_name["plan.fetch"], by_name["fetch echo"]
    assert request["parent_id"] == "0x" + client_span
    assert node["parent_id"] == request["context"]["span_id"]
    assert fetch["parent_id"] == node["context"]["span_id"]
    assert fetch["context"]["span_id"] == "0x" + sent_parent  # the subgraph's parent is the fetch span
    assert request["attributes"]["graphql.operation.name"] == "Headers"
    assert fetch["attributes"]["fedgate.subgraph"] == "echo"


def test_spans_reach_an_otlp_collector(echo, tmp_path):
    """OTLP over HTTP to a stand-in collector: the batch is flushed at the latest when the gateway stops."""
    import http.server
    import threading

    from echo_subgraph import supergraph
    from gateways import free_port, start_gateway

    received: list[tuple[str, str, int]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers["content-length"])
            self.rfile.read(length)
            received.append((self.path, self.headers["content-type"], length))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    config = {"lifecycle": {"shutdown_delay": 0}, "telemetry": {"tracing": {"enabled": True, "otlp_endpoint": endpoint}}}
    gateway = start_gateway(supergraph(echo.url), config, tmp_path, "otlp")
    try:
        assert gateway.post("{ public }").json() == {"data": {"public": "public"}}
    finally:
        gateway.stop()
        server.shutdown()
        server.server_close()
    assert received and received[0][0] == "/v1/traces"
    assert received[0][1] == "application/x-protobuf" and received[0][2] > 0
