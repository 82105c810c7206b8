"""`make run`'s script: starts everything, and one Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_leftovers(marker: str) -> list[int]:
    """Kill (by pid) any process still carrying this test's unique database path in its environment,
    so that a failure half-way never leaves subgraphs or a gateway running; return their pids."""
    needle = f"ORDERS_DB={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    for p in found:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return found


def test_run_script_serves_subgraphs_and_ctrl_c_stops_them_all(tmp_path, free_port):
    assert (ROOT / ".venv" / "bin" / "python").exists(), "scripts/run.sh runs from .venv: use `make test`"
    ports = {name: free_port() for name in ("orders", "payments", "delivery", "gateway", "redis", "registry")}
    env = {
        **os.environ,
        "ORDERS_PORT": str(ports["orders"]),
        "PAYMENTS_PORT": str(ports["payments"]),
        "DELIVERY_PORT": str(ports["delivery"]),
        "GATEWAY_PORT": str(ports["gateway"]),
        "REDIS_PORT": str(ports["redis"]),
        "REDIS_DIR": str(tmp_path / "redis"),
        "REGISTRY_PORT": str(ports["registry"]),
        "FEDGATE_REGISTRY_DATABASE": str(tmp_path / "registry.db"),
        "ORDERS_DB": str(tmp_path / "orders.db"),
        "PAYMENTS_DB": str(tmp_path / "payments.db"),
        "DELIVERY_DB": str(tmp_path / "delivery.db"),
    }
    env.pop("ORDERS_URL", None)
    env.pop("REDIS_URL", None)
    # A terminal, so that Ctrl-C is a real SIGINT from the line discipline.
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(ROOT)
        os.execve("/bin/bash", ["bash", "scripts/run.sh"], env)
        sys.exit(127)
    try:
        out = read_until(fd, b"Ctrl-C stops everything", timeout=60)
        assert b"Ctrl-C stops everything" in out, out.decode(errors="replace")
        started = [int(p) for p in re.findall(rb"started \w+ \(pid (\d+)\)", out)]
        assert len(started) >= 4  # redis too

        for name in ("orders", "payments", "delivery"):
            health = httpx.get(f"http://127.0.0.1:{ports[name]}/health", timeout=5).json()
            assert health == {"status": "ok", "subgraph": name}
        body = httpx.post(
            f"http://127.0.0.1:{ports['payments']}/graphql",
            json={"query": 'mutation { payOrder(orderId: "404", method: CARD) { id } }'},
            timeout=5,
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", "payments reaches orders on ORDERS_PORT"
        if b"gateway: http://" in out:  # the gateway routes to the subgraphs this script started
            answer = httpx.post(
                f"http://127.0.0.1:{ports['gateway']}/graphql",
                json={"query": '{ order(id: "1") { id customer { name } isPaid delivery { status } } }'},
                timeout=30,
            ).json()
            assert "errors" not in answer, answer
            assert answer["data"]["order"]["customer"]["name"] == "Ada Lovelace"
            # make run turns batching on (scripts/run.fedgate.yaml); compression is on by default.
            batch = httpx.post(
                f"http://127.0.0.1:{ports['gateway']}/graphql",
                json=[{"query": '{ order(id: "1") { id } }'}, {"query": "{ __typename }"}],
                headers={"accept-encoding": "br"},
                timeout=30,
            )
            assert batch.json() == [{"data": {"order": {"id": "1"}}}, {"data": {"__typename": "Query"}}]

        # The demo order goes from PLACED to DELIVERED by itself (auto-approve, pickup, ride).
        out += read_until(fd, b"is DELIVERED", timeout=60)
        assert re.search(rb"demo order \d+ is DELIVERED", out), out.decode(errors="replace")
        assert b"PaymentCaptured" in out and b"AgentAssigned" in out

        os.write(fd, b"\x03")
        out += read_until(fd, b"all stopped", timeout=30)
        _, status = os.waitpid(pid, 0)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        os.close(fd)
        if sys.exc_info()[0] is not None:  # failing half-way: leave nothing running
            _kill_leftovers(env["ORDERS_DB"])

    assert b"all stopped" in out, out.decode(errors="replace")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130
    deadline = time.monotonic() + 5
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in started)
    assert _kill_leftovers(env["ORDERS_DB"]) == []  # nothing the script started outlived it
    assert not (ROOT / "var" / f"supergraph.{ports['gateway']}.graphql").exists()  # its routed copy is removed
