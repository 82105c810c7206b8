"""Refused request bodies (413 too large, 415 not JSON, 400 CSRF or bad JSON) are drained before the
answer (lingering close): a client that sends its whole body before reading sees the 4xx JSON, not a reset."""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))

from gateways import ROOT, Proc, start_gateway  # noqa: E402

FIVE_MB = json.dumps({"query": "{ __typename }", "pad": "x" * 5_000_000}).encode()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    sdl = (ROOT / "tests" / "fixtures" / "simple_supergraph.graphql").read_text()
    config = {"lifecycle": {"shutdown_delay": 0}, "limits": {"drain_max_bytes": 8_000_000}}
    proc = start_gateway(sdl, config, tmp_path_factory.mktemp("refused"), "refused")
    yield proc
    proc.stop()


def _urllib(url: str, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> tuple[int, dict]:
    """POST as urllib does it (`Connection: close`, the whole body, then read); (status, JSON body)."""
    request = urllib.request.Request(url, data=body, headers={"content-type": content_type, **(extra or {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _raw(port: int, head: bytes, body: bytes) -> bytes:
    """Send the head and the whole body on one socket, then read the answer to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_too_large_body_sent_whole_gets_413_with_urllib(gateway: Proc):
    for _ in range(3):  # a reset is a race: it would show within a few tries
        status, body = _urllib(gateway.url, FIVE_MB, "application/json")
        assert status == 413 and _code(body) == "PAYLOAD_TOO_LARGE"


def test_too_large_body_sent_whole_gets_413_on_a_raw_socket(gateway: Proc):
    head = (b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n" % len(FIVE_MB))
    answer = _raw(gateway.port, head, FIVE_MB)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_too_large_chunked_body_gets_413(gateway: Proc):
    """No Content-Length: the limit is noticed while reading, and the rest is drained."""
    chunk = b"x" * 500_000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    head = (b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"transfer-encoding: chunked\r\n\r\n")
    answer = _raw(gateway.port, head, body)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_not_json_content_type_gets_415(gateway: Proc):
    status, body = _urllib(gateway.url, FIVE_MB, "application/xml")
    assert status == 415 and _code(body) == "INVALID_CONTENT_TYPE_HEADER"


def test_csrf_refusal_of_a_big_body_is_readable(gateway: Proc):
    status, body = _urllib(gateway.url, FIVE_MB, "text/plain")
    assert status == 400 and _code(body) == "CSRF_ERROR"


def test_bad_json_gets_400(gateway: Proc):
    bad = b'{"query": "{ __typename }", "pad": "' + b"x" * 1_500_000  # never closed
    status, body = _urllib(gateway.url, bad, "application/json")
    assert status == 400 and _code(body) == "BAD_REQUEST"


def test_expect_100_continue_is_answered_before_the_body(gateway: Proc):
    """A client that waits for `100 Continue` is refused at once and never has to send the body."""
    head = (b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n"
            b"content-length: %d\r\n\r\n" % len(FIVE_MB))
    answer = _raw(gateway.port, head, b"")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


def test_keep_alive_survives_a_drained_refusal(gateway: Proc):
    """After a drained 413 the same connection serves the next request."""
    head = (b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n" % len(FIVE_MB))
    ok = b'{"query":"{ __typename }"}'
    second = (b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
              b"content-length: %d\r\n\r\n%s" % (len(ok), ok))
    answer = _raw(gateway.port, head + FIVE_MB, second)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"HTTP/1.1 200" in answer and b'{"data":{"__typename":"Query"}}' in answer
