"""Plugins through a running `fedgate serve`: an entry-point package, a failing plugin, the
coprocessor, tenant routing and rate limiting shared by two gateway processes over one Redis."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "operations"))
sys.path.insert(0, str(HERE.parent / "execution"))
sys.path.insert(0, str(HERE))

from coprocessor_app import CALLS  # noqa: E402
from coprocessor_app import app as coprocessor  # noqa: E402
from echo_subgraph import supergraph as echo_supergraph  # noqa: E402
from gateways import PREFLIGHT, Proc, start_echo, start_gateway  # noqa: E402
from shop import ServerThread  # noqa: E402


def _headers(body: dict[str, Any]) -> dict[str, str]:
    return {h["name"]: h["value"] for h in body["data"]["headers"]}


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_echo(tmp_path_factory.mktemp("echo"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def echo_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_echo(tmp_path_factory.mktemp("echo-b"))
    yield proc
    proc.stop()


@pytest.fixture
def gateway(echo: Proc, tmp_path: Path) -> Iterator[Any]:
    started: list[Proc] = []

    def start(plugins: list[dict[str, Any]], **config: Any) -> Proc:
        proc = start_gateway(echo_supergraph(echo.url), {"plugins": plugins, **config}, tmp_path, f"gw{len(started)}")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def test_entry_point_plugin_sets_a_subgraph_header_and_a_response_extension(gateway):
    gw = gateway([{"name": "sample_headers", "config": {"header": "x-team", "value": "blue"}}])
    response = gw.post("{ headers { name value } }", headers=PREFLIGHT)
    assert response.status_code == 200
    body = response.json()
    assert _headers(body)["x-team"] == "blue"
    assert body["extensions"]["sample"] == {"subgraphs": ["echo"], "statuses": [200]}
    assert response.headers["x-sample-plugin"] == "1"


@pytest.mark.parametrize("hook", ["router_request", "operation", "plan", "client_response"])
def test_a_failing_plugin_gives_plugin_error_and_the_gateway_stays_up(gateway, hook: str):
    gw = gateway([{"name": "always_fails"}])
    response = gw.post("{ public }", headers={**PREFLIGHT, "x-fail-in": hook})
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "errors": [
            {"message": "A gateway plugin failed while handling this request.", "extensions": {"code": "PLUGIN_ERROR"}}
        ]
    }
    assert "secret internals" not in response.text
    # Still serving, and counted.
    assert gw.post("{ public }", headers=PREFLIGHT).json() == {"data": {"public": "public"}}
    metrics = httpx.get(gw.base_url + "/metrics").text
    assert f'fedgate_plugin_errors_total{{hook="{hook}",plugin="always_fails"}} 1.0' in metrics
    assert "boom in" in gw.log()  # the operator gets the traceback


@pytest.mark.parametrize("hook", ["subgraph_request", "subgraph_response"])
def test_a_failing_subgraph_hook_fails_only_that_fetch(gateway, hook: str):
    gw = gateway([{"name": "always_fails"}])
    response = gw.post("{ public }", headers={**PREFLIGHT, "x-fail-in": hook})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"public": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["public"], "PLUGIN_ERROR")]
    assert "secret internals" not in response.text
    assert gw.post("{ public }", headers=PREFLIGHT).json() == {"data": {"public": "public"}}


def test_a_rejection_carries_its_code_status_and_headers(gateway, redis_server):
    gw = gateway([{"name": "rate_limit", "config": {"capacity": 1, "interval": 3600, "key": "header:x-user"}}])
    assert gw.post("{ public }", headers={**PREFLIGHT, "x-user": "u1"}).status_code == 200
    refused = gw.post("{ public }", headers={**PREFLIGHT, "x-user": "u1"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json() == {
        "errors": [{"message": "Your request has been rate limited.", "extensions": {"code": "REQUEST_RATE_LIMITED"}}]
    }
    assert gw.post("{ public }", headers={**PREFLIGHT, "x-user": "u2"}).status_code == 200


def test_rate_limit_across_two_gateways_sharing_redis_allows_exactly_the_rate(gateway, redis_server):
    plugin = {
        "name": "rate_limit",
        "config": {
            "capacity": 10, "interval": 3600, "key": "header:x-user", "backend": "redis",
            "redis_url": redis_server.url, "key_prefix": "test:rl:two-gateways:",
        },
    }
    one, two = gateway([plugin]), gateway([plugin])
    statuses = []
    for i in range(30):
        gw = one if i % 2 else two
        statuses.append(gw.post("{ public }", headers={**PREFLIGHT, "x-user": "shared"}).status_code)
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    assert statuses[:10] == [200] * 10  # the first ten, whichever replica took them


def test_coprocessor_rewrites_a_request_and_rejects_another(gateway):
    CALLS.clear()
    with ServerThread(coprocessor) as server:
        url = server.url.removesuffix("/graphql") + "/"
        gw = gateway(
            [
                {
                    "name": "coprocessor",
                    "config": {
                        "url": url,
                        "router": {"request": {"headers": True, "body": True, "context": True, "path": True, "method": True}},
                        "subgraph": {"all": {"request": {"headers": True, "context": True, "service_name": True}}},
                    },
                }
            ]
        )
        # Rewritten: a retired field renamed in the body, and a subgraph header from the context.
        legacy = gw.post("query Legacy { oldPublic }", headers=PREFLIGHT, operationName="Legacy")
        assert legacy.json() == {"data": {"public": "public"}}
        body = gw.post("{ headers { name value } }", headers={**PREFLIGHT, "x-user": "ann"}).json()
        assert _headers(body)["x-coprocessor-user"] == "ann"
        router_call = [c for c in CALLS if c["stage"] == "RouterRequest"][-1]
        assert router_call["version"] == 1 and router_call["control"] == "continue"
        assert router_call["method"] == "POST" and router_call["path"] == "/graphql"
        assert router_call["headers"]["x-user"] == ["ann"]
        subgraph_call = [c for c in CALLS if c["stage"] == "SubgraphRequest"][-1]
        assert subgraph_call["serviceName"] == "echo" and subgraph_call["id"] == router_call["id"]
        # Refused: break with 403 and the coprocessor's own error.
        refused = gw.post("{ public }", headers={**PREFLIGHT, "x-deny": "1"})
        assert refused.status_code == 403
        assert refused.json() == {"errors": [{"message": "Denied by policy.", "extensions": {"code": "POLICY_DENIED"}}]}


def test_coprocessor_down_fails_closed_or_open(gateway, free_port):
    dead = f"http://127.0.0.1:{free_port()}/"
    closed = gateway([{"name": "coprocessor", "config": {"url": dead, "router": {"request": {"headers": True}}}}])
    response = closed.post("{ public }", headers=PREFLIGHT)
    assert response.status_code == 500 and response.json()["errors"][0]["extensions"]["code"] == "PLUGIN_ERROR"
    opened = gateway(
        [{"name": "coprocessor", "config": {"url": dead, "fail_open": True, "router": {"request": {"headers": True}}}}]
    )
    assert opened.post("{ public }", headers=PREFLIGHT).json() == {"data": {"public": "public"}}


def test_tenant_routing_sends_a_tenant_to_its_own_subgraph(gateway, echo, echo_b):
    gw = gateway(
        [{"name": "tenant_routing", "config": {"header": "x-tenant", "subgraphs": {"echo": {"acme": echo_b.url}}}}]
    )
    default = _headers(gw.post("{ headers { name value } }", headers=PREFLIGHT).json())
    acme = _headers(gw.post("{ headers { name value } }", headers={**PREFLIGHT, "x-tenant": "acme"}).json())
    assert default["host"] == f"127.0.0.1:{echo.port}"
    assert acme["host"] == f"127.0.0.1:{echo_b.port}"


def test_bad_plugin_config_stops_start_up_with_the_plugin_name(tmp_path, echo):
    with pytest.raises(RuntimeError) as info:
        start_gateway(echo_supergraph(echo.url), {"plugins": [{"name": "rate_limit", "config": {}}]}, tmp_path)
    assert "plugin 'rate_limit': invalid config: capacity: Field required" in str(info.value)
