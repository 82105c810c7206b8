"""`fedgate serve --workers N`: several processes on one port, supervised, draining together."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SUPERGRAPH = Path(__file__).parent.parent / "fixtures" / "planning" / "shop" / "supergraph.graphql"
FEDGATE = [sys.executable, "-m", "gateway"]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _wait(cond: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_workers_share_the_port_restart_and_drain(start_service, free_port) -> None:
    port = free_port()
    argv = [*FEDGATE, "serve", "--supergraph", str(SUPERGRAPH), "--port", str(port), "--workers", "2"]
    gw = start_service("gateway-workers", argv, port)
    supervisor = gw.process.pid
    assert _wait(lambda: len(_children(supervisor)) == 2)

    url = f"http://127.0.0.1:{port}/graphql"
    for _ in range(10):
        r = httpx.post(url, json={"query": "{ __typename }"}, timeout=5)
        assert r.json() == {"data": {"__typename": "Query"}}

    # A worker that dies is replaced, and the port keeps answering meanwhile.
    victim = _children(supervisor)[0]
    os.kill(victim, signal.SIGKILL)
    assert httpx.post(url, json={"query": "{ __typename }"}, timeout=5).status_code == 200
    assert _wait(lambda: len(_children(supervisor)) == 2 and victim not in _children(supervisor))

    gw.process.send_signal(signal.SIGTERM)
    assert gw.process.wait(timeout=30) == 0
    assert _children(supervisor) == []
