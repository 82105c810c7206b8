"""A minimal HTTP/1.1 server on asyncio: keep-alive, Content-Length or chunked bodies, nothing else.

The bench subgraphs must not be the bottleneck, and uvicorn picks its HTTP parser by what is
installed (h11 or httptools), which would also change fedgate's own speed: this server has no
dependency, so installing the bench changes nothing in the gateway under test.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

Handler = Callable[[str, str, bytes], tuple[int, bytes]]

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}


class _Protocol(asyncio.Protocol):
    __slots__ = ("_handler", "_transport", "_buf")

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._transport: asyncio.Transport | None = None
        self._buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            if not self._one_request():
                return

    def _one_request(self) -> bool:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = buf[:end].decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        length = 0
        chunked = False
        close = False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        start = end + 4
        if chunked:
            body, consumed = _dechunk(buf, start)
            if body is None:
                return False
            self._buf = buf[consumed:]
        else:
            if len(buf) - start < length:
                return False
            body = buf[start : start + length]
            self._buf = buf[start + length :]
        status, payload = self._handler(method, target.split("?", 1)[0], body)
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
            % (status, _REASONS.get(status, b"Error"), len(payload))
            + payload
        )
        if close:
            self._transport.close()
            return False
        return True


def _dechunk(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    """Decode a chunked body starting at pos: (body, end offset), or (None, 0) when incomplete."""
    parts: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(buf[pos:eol].split(b";", 1)[0], 16)
        pos = eol + 2
        if size == 0:
            trailer_end = buf.find(b"\r\n", pos)
            if trailer_end < 0:
                return None, 0
            return b"".join(parts), trailer_end + 2
        if len(buf) < pos + size + 2:
            return None, 0
        parts.append(buf[pos : pos + size])
        pos += size + 2


def serve(host: str, port: int, handler: Handler) -> None:
    """Serve handler(method, path, body) -> (status, JSON bytes) until SIGTERM or SIGINT."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(handler), host, port, backlog=1024)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(main())
