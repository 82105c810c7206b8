"""Units of pure logic in the guard: the middleware's last resort, operation labels, CSRF, masking."""

from __future__ import annotations

import asyncio

import orjson

from gateway.config import GatewayConfig
from gateway.server.guard import Guard, _OperationsMiddleware
from gateway.server.security import csrf_blocked, mask_errors


def _call(app, method: str = "POST", headers=None):
    scope = {"type": "http", "method": method, "path": "/graphql",
             "headers": headers or [(b"content-type", b"application/json")]}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_bug_below_the_middleware_still_answers_a_graphql_error():
    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    start, body = _call(_OperationsMiddleware(broken, Guard(GatewayConfig())))
    assert start["status"] == 500
    assert dict(start["headers"])[b"x-request-id"]
    assert orjson.loads(body["body"]) == {
        "errors": [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    }


def test_operation_labels_are_bounded():
    guard = Guard(GatewayConfig())
    assert guard._label("Orders") == "Orders"
    assert guard._label("not a name!") == "(other)"
    for i in range(600):
        guard._label(f"Op{i}")
    assert guard._label("Op599") == "(other)" and guard._label("Orders") == "Orders"


def test_csrf_rules():
    assert csrf_blocked(None, False)
    assert csrf_blocked(b"text/plain; charset=utf-8", False)
    assert csrf_blocked(b"", False)
    assert not csrf_blocked(b"application/json", False)
    assert not csrf_blocked(None, True)
    # Not a MIME type (garbage, or two Content-Type headers joined): no proof of a preflight, as in Router.
    assert csrf_blocked(b"garbage", False)
    assert csrf_blocked(b"application/json, text/plain", False)
    assert not csrf_blocked(b'application/json; charset="utf-8"', False)


def test_masking_copies_what_it_changes():
    shared = {"message": "see http://10.0.0.1:8080/x", "extensions": {"serviceName": "a", "stacktrace": ["x"]}}
    local = {"message": "bad input", "extensions": {"code": "BAD_USER_INPUT"}}
    out = mask_errors([shared, local], mask_messages=False)
    assert out[0] == {"message": "see [url]", "extensions": {"serviceName": "a"}}
    assert out[1] is local
    assert shared["extensions"]["stacktrace"] == ["x"]  # the original is untouched
