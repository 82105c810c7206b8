"""The native client's per-attempt timeouts: a subgraph that accepts but never answers fails fast."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.config import TrafficShapingConfig
from gateway.transport import FetchRequest, TransportError
from gateway.transport.native import NativeClient


async def test_read_timeout_bounds_one_attempt_and_total_still_applies() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # take the request, never answer
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        fast = NativeClient(TrafficShapingConfig.model_validate({"all": {"timeout": 10, "read_timeout": 0.3}}))
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await fast.fetch(FetchRequest("s", url, b'{"query":"{ a }"}'))
        assert time.monotonic() - started < 5  # the read timeout, not the 10 s total
        await fast.aclose()

        # A per-subgraph override of the total caps the read timeout too.
        capped = NativeClient(
            TrafficShapingConfig.model_validate({"all": {"read_timeout": 30}, "subgraphs": {"s": {"timeout": 0.3}}})
        )
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            await capped.fetch(FetchRequest("s", url, b'{"query":"{ a }"}'))
        assert time.monotonic() - started < 5
        await capped.aclose()
    finally:
        server.close()
        await server.wait_closed()
