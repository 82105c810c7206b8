"""A scripted HTTP subgraph on loopback (uvicorn in a thread) for transport tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Script:
    """What the server does: fail the first `fail_first` requests with `fail_status`, sleep `delay`."""

    fail_first: int = 0
    fail_status: int = 503
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)


class ScriptedServer:
    """`/graphql` answers `{"data": {"n": <request number>}}` after the script's failures and delay."""

    def __init__(self) -> None:
        self.script = Script()
        app = Starlette(routes=[Route("/graphql", self._handle, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _handle(self, request: Request) -> Response:
        script = self.script
        script.received.append(orjson.loads(await request.body()))
        n = len(script.received)
        if script.delay:
            await asyncio.sleep(script.delay)
        if n <= script.fail_first:
            return Response(b'{"errors":[{"message":"busy"}]}', status_code=script.fail_status, media_type="application/json")
        return Response(orjson.dumps({"data": {"n": n}}), media_type="application/json")

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server thread died")
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/graphql"


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def scripted(scripted_server: ScriptedServer) -> ScriptedServer:
    """The module's scripted server with a fresh script for this test."""
    scripted_server.script = Script()
    return scripted_server
