"""Response compression: brotli or gzip by the client's `Accept-Encoding`, above a size threshold.

A pure ASGI middleware over whole responses: every GraphQL answer is one body, so it is compressed
in one call. Streamed responses (SSE, multipart, anything sent in several parts) and responses that
already carry a `Content-Encoding` pass through untouched. Brotli wins over gzip at equal quality
value: it is smaller at a lower CPU cost for JSON (see docs/benchmark.md, "Compression").
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import CompressionConfig
from gateway.server.negotiation import parse_quality_list

_PREFERENCE = ("br", "gzip")  # at equal quality, the first one wins
_STREAMED = ("text/event-stream", "multipart/")


def choose_encoding(accept_encoding: str | None) -> str | None:
    """`br`, `gzip` or None (send as is) for an `Accept-Encoding` header, by quality value."""
    if not accept_encoding:
        return None
    quality = {coding: q for q, _position, coding in parse_quality_list(accept_encoding)}
    best: tuple[float, int] | None = None
    chosen = None
    for rank, coding in enumerate(_PREFERENCE):
        q = quality.get(coding, quality.get("*", 0.0))
        if q > 0 and (best is None or (q, -rank) > best):
            best, chosen = (q, -rank), coding
    return chosen


def compressor(config: CompressionConfig) -> dict[str, Callable[[bytes], bytes]]:
    """One function per content coding, with the configured level."""
    level, quality = config.gzip_level, config.brotli_quality

    def gzip(body: bytes) -> bytes:
        # wbits 31: a gzip container, what `Content-Encoding: gzip` means.
        c = zlib.compressobj(level, zlib.DEFLATED, 31)
        return c.compress(body) + c.flush()

    def br(body: bytes) -> bytes:
        out: bytes = brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality)
        return out

    return {"gzip": gzip, "br": br}


class CompressionMiddleware:
    """Compresses whole HTTP responses of at least `min_size` bytes the client accepts compressed."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        self.app = app
        self.min_size = config.min_size
        self.codecs = compressor(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = choose_encoding(Headers(scope=scope).get("accept-encoding"))
        if encoding is None:
            await self.app(scope, receive, send)
            return
        codec = self.codecs[encoding]
        held: dict[str, Any] = {}

        async def send_compressed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                length = headers.get("content-length")
                if headers.get("content-type", "").startswith(_STREAMED) or (
                    length is not None and length.isdigit() and int(length) < self.min_size
                ):
                    await send(message)  # a stream's headers must go out before its first event
                    return
                held["start"] = message  # wait for the body to decide
                return
            start = held.pop("start", None)
            if start is None or message["type"] != "http.response.body":
                if start is not None:
                    await send(start)
                await send(message)
                return
            body: bytes = message.get("body", b"")
            headers = MutableHeaders(raw=start["headers"])
            streamed = message.get("more_body", False) or headers.get("content-type", "").startswith(_STREAMED)
            if streamed or len(body) < self.min_size or "content-encoding" in headers:
                await send(start)
                await send(message)
                return
            compressed = codec(body)
            headers["content-encoding"] = encoding
            headers["content-length"] = str(len(compressed))
            headers.add_vary_header("Accept-Encoding")
            await send(start)
            await send({"type": "http.response.body", "body": compressed})

        await self.app(scope, receive, send_compressed)


def compression_middleware(config: CompressionConfig) -> list[Middleware]:
    """The middleware to add to the app: none when compression is off."""
    return [Middleware(CompressionMiddleware, config=config)] if config.enabled else []
