"""Helpers for tests/cache: count requests at the subgraphs, drive gateways, own a killable Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "execution"))

from shop import ServerThread  # noqa: E402

ORDER_QUERY = """
query Order($id: ID!) {
  order(id: $id) {
    id status isPaid refundDue estimatedDeliveryMinutes
    total { cents currency }
    restaurant { name averagePrepMinutes }
    delivery { status agent { name } }
  }
}
"""


class Counts:
    """Requests each subgraph has logged, read from its access log."""

    def __init__(self, stack: dict[str, Any]) -> None:
        self.stack = stack
        self.mark = self._now()

    def _now(self) -> dict[str, int]:
        return {name: proc.log().count('"POST /graphql') for name, proc in self.stack.items()}

    def delta(self) -> dict[str, int]:
        """Requests per subgraph since the last call (or creation)."""
        now = self._now()
        out = {name: now[name] - self.mark[name] for name in now}
        self.mark = now
        return out

    def total(self) -> int:
        return sum(self.delta().values())


class Gateway:
    """One gateway (a Starlette app under uvicorn in a thread) and a client for it."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.url = server.url
        self.base = self.url.removesuffix("/graphql")
        self.client = httpx.Client(timeout=10)

    def post(self, query: str | None = None, variables: dict[str, Any] | None = None, **extra: Any) -> httpx.Response:
        headers = extra.pop("headers", None)
        body: dict[str, Any] = {**extra}
        if query is not None:
            body["query"] = query
        if variables is not None:
            body["variables"] = variables
        return self.client.post(self.url, json=body, headers=headers)

    def order(self, order_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.post(ORDER_QUERY, {"id": order_id}, headers=headers)


def redis_config(url: str, prefix: str, **entities: Any) -> dict[str, Any]:
    """A config with the Redis backend and the entity cache on."""
    return {
        "cache": {
            "backend": "redis",
            "redis": {"url": url, "key_prefix": prefix, "timeout": 0.5, "retry_after": 0.2},
            "entities": {"enabled": True, **entities},
            "invalidation": {"secret": "s3cret"},
        }
    }


class OwnRedis:
    """A redis-server this test may kill and restart (on the same port), stopped by pid."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run `make redis`")
        self.binary = binary
        self.workdir = workdir
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--enable-debug-command", "local"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
