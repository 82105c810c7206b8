"""NativeClient: a lean HTTP/1.1 keep-alive client on asyncio protocols, for JSON POSTs to subgraphs.

Same interface as SubgraphClient (httpx). It does only what a subgraph call needs (POST, a
Content-Length body, responses framed by Content-Length, chunked encoding or connection close), and
costs about a fifteenth of httpx's CPU per request, which dominates a gateway's per-request work.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from urllib.parse import urlsplit

import brotli
import orjson

from gateway.config import SubgraphTrafficConfig, TrafficShapingConfig
from gateway.transport.client import FetchRequest, ResponseTooLarge, SubgraphResponse, TransportError

_Answer = tuple[int, bytes, "str | None"]
"""(status, body, Cache-Control header) of one response."""

_DEFAULT_LIMIT = SubgraphTrafficConfig().max_response_bytes
_MAX_HEAD = 65536
"""Bytes of status line and headers allowed on top of `max_response_bytes`."""


class _ConnectTimeout(Exception):
    """Opening a connection took longer than `connect_timeout`."""


class _Closed(Exception):
    """The connection closed before a complete response arrived."""

    def __init__(self, got_bytes: bool) -> None:
        super().__init__("connection closed")
        self.got_bytes = got_bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[_Answer] | None = None
        self.closed = False
        self.keep_alive = True
        self._got_bytes = False
        self.limit = 0  # the largest response body accepted (max_response_bytes)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._got_bytes = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if len(self.buffer) > self.limit + _MAX_HEAD:  # refused before the rest arrives
                waiter.set_exception(ResponseTooLarge(self.limit))
                return
            try:
                result = self._parse(eof=False)
            except ValueError as exc:
                waiter.set_exception(exc)
                return
            if result is not None:
                waiter.set_result(result)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            try:
                result = self._parse(eof=True)
            except ValueError as err:
                waiter.set_exception(err)
                return
            if result is not None:
                waiter.set_result(result)
            else:
                waiter.set_exception(_Closed(self._got_bytes))

    def send(self, request: bytes, limit: int = _DEFAULT_LIMIT) -> asyncio.Future[_Answer]:
        assert self.transport is not None
        self.limit = limit
        self.buffer.clear()
        self._got_bytes = False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _parse(self, eof: bool) -> _Answer | None:
        """(status, body) once the buffer holds a whole response; None while incomplete."""
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if eof and buf:
                raise ValueError("truncated response headers")
            return None
        lines = bytes(buf[:end]).split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError("not an HTTP/1.x response")
        status = int(parts[1])
        length: int | None = None
        chunked = False
        cache_control: str | None = None
        encoding = b""
        keep_alive = parts[0] != b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
                if length > self.limit:
                    raise ResponseTooLarge(self.limit)
            elif name == b"cache-control":
                cache_control = value.strip().decode("latin-1")
            elif name == b"content-encoding":
                encoding = value.strip().lower()
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                token = value.strip().lower()
                keep_alive = token == b"keep-alive" if parts[0] == b"HTTP/1.0" else token != b"close"
        start = end + 4
        if 100 <= status < 200:  # interim response: drop it and wait for the real one
            del buf[:start]
            return self._parse(eof)
        if chunked:
            # A whole chunked message ends with CRLF CRLF: without it there is nothing to parse yet
            # (re-walking every chunk on each read would cost O(n^2) on a large answer).
            if not eof and not buf.endswith(b"\r\n\r\n"):
                return None
            body = bytearray()
            pos = start
            while True:
                line_end = buf.find(b"\r\n", pos)
                if line_end < 0:
                    return self._incomplete(eof)
                size = int(bytes(buf[pos:line_end]).split(b";", 1)[0], 16)
                if size == 0:
                    trailer_end = buf.find(b"\r\n\r\n", line_end)
                    if trailer_end < 0:
                        return self._incomplete(eof)
                    break
                chunk_start = line_end + 2
                if len(buf) < chunk_start + size + 2:
                    return self._incomplete(eof)
                body += memoryview(buf)[chunk_start : chunk_start + size]
                pos = chunk_start + size + 2
            self.keep_alive = keep_alive
            return status, _decoded(bytes(body), encoding, self.limit), cache_control
        if length is not None:
            if len(buf) - start < length:
                return self._incomplete(eof)
            self.keep_alive = keep_alive
            # One copy out of the buffer (a bytearray slice would copy twice); the view dies here.
            return status, _decoded(bytes(memoryview(buf)[start : start + length]), encoding, self.limit), cache_control
        if status in (204, 304):
            self.keep_alive = keep_alive
            return status, b"", cache_control
        # No framing: the body runs until the server closes the connection.
        if not eof:
            return None
        self.keep_alive = False
        return status, _decoded(bytes(memoryview(buf)[start:]), encoding, self.limit), cache_control

    @staticmethod
    def _incomplete(eof: bool) -> None:
        if eof:
            raise ValueError("truncated response body")
        return None


def _decoded(body: bytes, encoding: bytes, limit: int = _DEFAULT_LIMIT) -> bytes:
    """The body without its Content-Encoding (asked for with `traffic_shaping.*.compression`); a body
    that decodes to more than `limit` bytes is refused (a compression bomb stops at the limit)."""
    if not encoding or encoding == b"identity":
        return body
    try:
        if encoding == b"gzip" or encoding == b"deflate":
            inflater = zlib.decompressobj(47 if encoding == b"gzip" else 15)  # 47: gzip or zlib header
            out = inflater.decompress(body, limit + 1)
        elif encoding == b"br":
            out = brotli.Decompressor().process(body, output_buffer_limit=limit + 1)
        else:
            raise ValueError(f"unsupported content-encoding {encoding.decode('latin-1')}")
    except (zlib.error, brotli.error) as exc:
        raise ValueError(f"undecodable {encoding.decode('latin-1')} body") from exc
    if len(out) > limit:
        raise ResponseTooLarge(limit)
    return out


def _kind(exc: BaseException) -> str:
    """The TransportError kind of a failed exchange."""
    if isinstance(exc, ResponseTooLarge):
        return "too_large"
    if isinstance(exc, _Closed):
        return "reset"
    if isinstance(exc, ValueError):
        return "truncated" if "truncated" in str(exc) else "malformed_http"
    if isinstance(exc, ConnectionRefusedError):
        return "connect"
    if isinstance(exc, ConnectionError):
        return "reset"
    return "connect"  # other OSErrors: unreachable host or network


class _Origin:
    """Idle connections to one scheme://host:port, and a cap on open ones."""

    __slots__ = ("host", "port", "ssl", "idle", "slots", "host_header")

    def __init__(self, host: str, port: int, use_ssl: bool, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if use_ssl else None
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(max_connections)
        default = 443 if use_ssl else 80
        self.host_header = host if port == default else f"{host}:{port}"


class NativeClient:
    """Transport over pooled asyncio connections (HTTP/1.1, keep-alive); see the module docstring."""

    def __init__(self, traffic: TrafficShapingConfig | None = None) -> None:
        self._traffic = traffic or TrafficShapingConfig()
        self._origins: dict[str, _Origin] = {}
        # url -> (origin, request head up to Content-Length)
        self._heads: dict[str, tuple[_Origin, bytes]] = {}
        # subgraph -> ask for a compressed response (traffic_shaping.*.compression)
        self._compressed: dict[str, bool] = {}
        # subgraph -> (total, connect, read) seconds and max_response_bytes: `all` with the subgraph's
        # own keys over it.
        self._limits: dict[str, tuple[float, float, float, int]] = {}

    def _limits_for(self, subgraph_name: str) -> tuple[float, float, float, int]:
        got = self._limits.get(subgraph_name)
        if got is None:
            cfg = self._traffic.for_subgraph(subgraph_name)
            got = (
                cfg.timeout, min(cfg.connect_timeout, cfg.timeout), min(cfg.read_timeout, cfg.timeout),
                cfg.max_response_bytes,
            )
            self._limits[subgraph_name] = got
        return got

    def _head(self, url: str, compressed: bool = False) -> tuple[_Origin, bytes]:
        cached = self._heads.get(url)
        if cached is not None:
            return cached
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"unsupported subgraph URL {url!r}")
        use_ssl = parts.scheme == "https"
        port = parts.port or (443 if use_ssl else 80)
        key = f"{parts.scheme}://{parts.hostname}:{port}"
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(parts.hostname, port, use_ssl, self._traffic.max_connections)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
            "Content-Type: application/json\r\n"
            "Accept: application/graphql-response+json, application/json\r\n"
            + ("Accept-Encoding: br, gzip\r\n" if compressed else "")
        ).encode("latin-1")
        self._heads[url] = (origin, head)
        return origin, head

    async def fetch(self, fetch: FetchRequest) -> SubgraphResponse:
        """POST the request's body to its URL; raise TransportError when no JSON comes back."""
        subgraph_name, url, body, headers = fetch.subgraph, fetch.url, fetch.body, fetch.headers
        compressed = self._compressed.get(subgraph_name)
        if compressed is None:
            compressed = self._compressed[subgraph_name] = self._traffic.for_subgraph(subgraph_name).compression
        origin, head = self._head(url, compressed)
        request = bytearray(head)
        if headers:
            for name, value in headers.items():
                line = f"{name}: {value}"
                if "\r" in line or "\n" in line:
                    raise TransportError(f"header {name!r} for '{subgraph_name}' contains a line break")
                request += line.encode("latin-1", "replace") + b"\r\n"
        request += b"Content-Length: %d\r\n\r\n" % len(body)
        request += body
        total, connect, read, limit = self._limits_for(subgraph_name)
        try:
            async with asyncio.timeout(total):
                status, content, cache_control = await self._exchange(origin, bytes(request), connect, read, limit)
        except _ConnectTimeout as exc:
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': connect timed out", kind="connect") from exc
        except TimeoutError as exc:
            raise TransportError(f"HTTP fetch failed from '{subgraph_name}': request timed out", kind="timeout") from exc
        except (OSError, ValueError, _Closed) as exc:
            raise TransportError(
                f"HTTP fetch failed from '{subgraph_name}': {exc or type(exc).__name__}", kind=_kind(exc)
            ) from exc
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            if status >= 400:
                raise TransportError(
                    f"HTTP fetch failed from '{subgraph_name}': {status}", status=status, kind="http_error"
                ) from exc
            raise TransportError(
                f"HTTP fetch failed from '{subgraph_name}': invalid JSON in response", kind="invalid_json"
            ) from exc
        return SubgraphResponse(status, parsed, cache_control, content)

    async def _exchange(self, origin: _Origin, request: bytes, connect: float, read: float, limit: int) -> _Answer:
        async with origin.slots:
            while origin.idle:
                conn = origin.idle.pop()
                if conn.closed:
                    continue
                try:
                    return await self._send(origin, conn, request, read, limit)
                except _Closed as exc:
                    # The server closed an idle keep-alive connection: retry on a fresh one, but
                    # only when nothing came back (the request was not processed).
                    if exc.got_bytes:
                        raise
            conn = await self._connect(origin, connect)
            return await self._send(origin, conn, request, read, limit)

    async def _connect(self, origin: _Origin, timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    _Connection, origin.host, origin.port, ssl=origin.ssl,
                    server_hostname=origin.host if origin.ssl else None,
                )
        except TimeoutError as exc:
            raise _ConnectTimeout from exc
        return conn

    async def _send(self, origin: _Origin, conn: _Connection, request: bytes, read: float, limit: int) -> _Answer:
        try:
            # `read`: how long the subgraph may take to answer once the request is written (the
            # whole answer: a slow loris or a byte-a-second trickle cannot stretch it).
            async with asyncio.timeout(read):
                result = await conn.send(request, limit)
        except BaseException:
            conn.close()  # a timed out or failed exchange leaves the connection in an unknown state
            raise
        conn.waiter = None
        if conn.keep_alive and not conn.closed:
            origin.idle.append(conn)
        else:
            conn.close()
        return result

    async def aclose(self) -> None:
        """Close every pooled connection."""
        for origin in self._origins.values():
            for conn in origin.idle:
                conn.close()
            origin.idle.clear()
