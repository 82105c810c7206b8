"""The native client's HTTP/1.1 response parsing: framing by length, chunks, or connection close."""

from __future__ import annotations

import asyncio

from gateway.transport.native import _Connection


class _FakeTransport:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


def _answer(pieces: list[bytes], close: bool = False) -> tuple[int, bytes, str | None]:
    async def run() -> tuple[int, bytes, str | None]:
        conn = _Connection()
        conn.connection_made(_FakeTransport())  # type: ignore[arg-type]
        waiter = conn.send(b"POST / HTTP/1.1\r\n\r\n")
        for piece in pieces:
            conn.data_received(piece)
        if close:
            conn.connection_lost(None)
        return await waiter

    return asyncio.run(run())


def test_content_length_body_arriving_in_pieces():
    body = b'{"data":{"x":"' + b"y" * 100_000 + b'"}}'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nCache-Control: max-age=5\r\n\r\n" % len(body)
    raw = head + body
    pieces = [raw[i : i + 4096] for i in range(0, len(raw), 4096)]
    status, content, cache_control = _answer(pieces)
    assert (status, content, cache_control) == (200, body, "max-age=5")
    assert type(content) is bytes


def test_chunked_body_and_close_delimited_body():
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"dat\r\n8;ext=1\r\na\":null}\r\n0\r\n\r\n"
    assert _answer([raw[:30], raw[30:61], raw[61:]]) == (200, b'{"data":null}', None)
    raw = b"HTTP/1.0 502 Bad Gateway\r\n\r\nupstream down"
    assert _answer([raw], close=True) == (502, b"upstream down", None)


def test_a_compressed_answer_is_refused_past_the_limit_without_inflating_it_all():
    """A compression bomb (10 MB of zeros in a few KB) stops at max_response_bytes."""
    import zlib

    import brotli
    import pytest

    from gateway.transport.client import ResponseTooLarge
    from gateway.transport.native import _decoded

    plain = b"0" * 10_000_000
    gzipped = zlib.compress(plain, wbits=31)
    assert _decoded(gzipped, b"gzip", 20_000_000) == plain
    for body, encoding in ((gzipped, b"gzip"), (brotli.compress(plain), b"br")):
        with pytest.raises(ResponseTooLarge):
            _decoded(body, encoding, 1_000_000)
