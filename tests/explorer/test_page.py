"""The explorer over HTTP: where the page is served, that it is self-contained, the plan preview,
the trace header (only when asked and allowed), and CSRF prevention untouched for the API."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx
import pytest
from explorer_helpers import README_QUERY, routed_supergraph, serve

from gateway.config import load_config
from gateway.server import create_app
from gateway.supergraph import load_supergraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "execution"))
from shop import ServerThread  # noqa: E402

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def plain_gateway(subgraphs, tmp_path_factory):
    """`fedgate serve` with its defaults: no explorer."""
    proc = serve(subgraphs, tmp_path_factory.mktemp("plain"))
    yield proc
    proc.stop()


def test_page_at_root_and_on_browser_get_of_graphql(explorer_gateway):
    for path in ("/", "/graphql"):
        response = httpx.get(explorer_gateway.base_url + path, headers=HTML)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "fedgate explorer" in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_page_loads_nothing_from_another_origin(explorer_gateway):
    page = httpx.get(explorer_gateway.base_url + "/", headers=HTML).text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all(ref.startswith("/explorer/") for ref in refs)
    for ref in refs:
        response = httpx.get(explorer_gateway.base_url + ref, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, ref
    js = httpx.get(explorer_gateway.base_url + "/explorer/vendor/graphiql.min.js")
    assert js.headers["content-type"].startswith("text/javascript") and len(js.content) > 1_000_000
    assert httpx.get(explorer_gateway.base_url + "/explorer/../pyproject.toml").status_code == 404
    assert httpx.get(explorer_gateway.base_url + "/explorer/index.html").status_code == 404


def test_serve_has_no_page_by_default(plain_gateway):
    assert httpx.get(plain_gateway.base_url + "/", headers=HTML).status_code == 404
    assert httpx.get(plain_gateway.base_url + "/explorer/explorer.js").status_code == 404
    # A browser GET of /graphql is what it always was: refused by CSRF prevention.
    response = httpx.get(plain_gateway.base_url + "/graphql", headers=HTML)
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"


@pytest.mark.parametrize("headers", [{}, {"content-type": "text/plain"}, HTML | {"content-type": "text/plain"}])
def test_csrf_prevention_still_holds_for_the_api(explorer_gateway, headers):
    body = '{"query": "{ __typename }"}'
    response = httpx.post(explorer_gateway.url, content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    # A GraphQL GET (not asking for HTML) is still an API call, held to the same rule.
    response = httpx.get(explorer_gateway.url, params={"query": "{ __typename }"}, headers={"accept": "application/json"})
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"


def test_plan_preview_is_the_gateway_plan(explorer_gateway):
    response = httpx.post(explorer_gateway.base_url + "/explorer/plan", json={"query": README_QUERY})
    assert response.status_code == 200
    plan = response.json()["data"]["queryPlan"]
    root = plan["object"]["node"]
    assert root["kind"] == "Sequence"
    assert root["nodes"][0]["serviceName"] == "orders"
    assert [n["node"]["serviceName"] for n in root["nodes"][1]["nodes"]] == ["payments", "delivery"]
    assert plan["text"].startswith("QueryPlan {")


def test_plan_preview_errors_are_graphql_errors(explorer_gateway):
    url = explorer_gateway.base_url + "/explorer/plan"
    bad = httpx.post(url, json={"query": "{ order(id: 1) { nope } }"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert httpx.post(url, json={"query": "{"}).json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert httpx.post(url, json=[1]).status_code == 400
    assert httpx.post(url, content=b'{"query": "{ __typename }"}', headers={"content-type": "text/plain"}).status_code == 415
    assert httpx.get(url).status_code == 405


def test_trace_when_the_page_asks(explorer_gateway):
    body = {"query": README_QUERY, "variables": {"id": "1"}}
    headers = JSON | {"apollo-expose-query-plan": "true", "fedgate-expose-trace": "true"}
    answer = httpx.post(explorer_gateway.url, json=body, headers=headers).json()
    assert answer["data"]["order"]["customer"]["name"] == "Ada Lovelace"
    trace = answer["extensions"]["fedgateTrace"]
    fetches = trace["fetches"]
    assert [f["serviceName"] for f in fetches] == ["orders", "payments", "delivery"]
    assert all(f["status"] == "ok" and f["httpStatus"] == 200 for f in fetches)
    assert fetches[1]["representations"] == 1 and fetches[2]["representations"] == 1
    assert "representations" not in fetches[0]
    # payments and delivery run in parallel: both start after orders ends.
    assert fetches[1]["startMs"] >= fetches[0]["startMs"] + fetches[0]["durationMs"] - 0.01
    assert trace["totalMs"] >= max(f["startMs"] + f["durationMs"] for f in fetches) - 0.01
    # Without the header: nothing extra.
    answer = httpx.post(explorer_gateway.url, json=body, headers=JSON).json()
    assert "extensions" not in answer


def test_trace_header_ignored_unless_config_allows(subgraphs, tmp_path, plain_gateway):
    body = {"query": README_QUERY, "variables": {"id": "1"}}
    headers = JSON | {"fedgate-expose-trace": "true"}
    assert "extensions" not in httpx.post(plain_gateway.url, json=body, headers=headers).json()
    # explorer.trace: false (the page without timings), served in process over the same subgraphs.
    supergraph = load_supergraph(routed_supergraph(subgraphs, tmp_path / "supergraph.graphql").read_text())
    config = load_config(_write(tmp_path / "fedgate.yaml", "explorer:\n  enabled: true\n  trace: false\n"))
    with ServerThread(create_app(supergraph, config), lifespan="on") as server:
        assert httpx.get(server.url.replace("/graphql", "/"), headers=HTML).status_code == 200
        answer = httpx.post(server.url, json=body, headers=headers).json()
        assert answer["data"]["order"]["id"] == "1" and "extensions" not in answer


def _write(path, text: str):
    path.write_text(text)
    return path
